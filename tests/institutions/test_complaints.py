"""Complaints (举报/投诉), issue 15: filing on the public page, tracking with the code, the
rate limit and the honeypot, routing, grouping, the handling steps and who sees what."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from institutions import complaints
from institutions.complaint_models import Complaint, ComplaintFile, ComplaintStep
from portal import evidence
from portal.models import AuditLog
from tests.institutions.complaint_helpers import PNG, next_year_known, staff_of
from tests.institutions.helpers import make_institution

pytestmark = pytest.mark.django_db

C = Complaint.Category
S = Complaint.Status


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the rate limit's counters (this helper's own Redis database)
    next_year_known()
    yield
    cache.clear()


@pytest.fixture
def training(db):
    return staff_of("校外培训", "xiaowai")


@pytest.fixture
def institution(world, training):
    return make_institution(training, world.school_a.district, name="启航学科培训学校")


def stored_files():
    root = evidence.storage().location
    return [p for p in __import__("pathlib").Path(root).rglob("*") if p.is_file()]


def file_one(**overrides):
    data = {"category": C.OVERTIME, "text": "周六晚上九点还在上数学课。"}
    data.update(overrides)
    return complaints.complaint_file(**data)


# --- filing -----------------------------------------------------------------------------


def test_anyone_files_a_complaint_and_gets_a_code_stored_only_as_a_digest(
    world, institution, client
):
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = client.post(reverse("complaints:file"), {
        "category": C.OVERTIME, "institution": institution.pk, "text": "周六21:30仍在上课",
        "happened_on": "2026-11-28", "contact_name": "张三", "contact_phone": "13812345678",
        "files": [photo],
    }, follow=True)  # fmt: skip
    assert response.status_code == 200
    shown = re.search(r'data-testid="tracking-code"[^>]*>([A-Z0-9-]+)<', response.content.decode())
    code = shown.group(1).replace("-", "")
    assert len(code) == 12 and set(code) <= set(complaints.ALPHABET)
    c = Complaint.objects.get()
    assert c.code_digest == complaints.code_digest(code)
    assert code not in str(Complaint.objects.values().get())  # the code itself is nowhere
    assert c.line == Complaint.Line.INSTITUTIONS and c.district == institution.district
    assert c.status == S.RECEIVED and c.parent is None
    f = ComplaintFile.objects.get()
    assert f.from_complainant and f.kind == "png" and len(f.sha256) == 64
    assert len(stored_files()) == 1
    assert AuditLog.objects.filter(action="institutions.complaint.filed").count() == 1
    # the code shown once: the done page again sends to the tracking form
    again = client.get(reverse("complaints:done"))
    assert again.status_code == 302 and again["Location"] == reverse("complaints:track")


def test_the_code_shows_status_and_reply_only(world, institution):
    c, code = file_one(institution_id=institution.pk, contact_name="李四",
                       contact_phone="13900001111")  # fmt: skip
    from django.test import Client

    page = Client().get(reverse("complaints:track"), {"code": code.lower()}).content.decode()
    assert "已收到，待受理" in page
    for secret in ("李四", "13900001111", "1390", "周六晚上九点"):
        assert secret not in page
    wrong = Client().get(reverse("complaints:track"), {"code": "AAAA-AAAA-AAAA"})
    assert wrong.status_code == 404 and "查询码不正确" in wrong.content.decode()


def test_a_form_without_category_or_text_names_both_and_keeps_what_was_typed(world, client):
    response = client.post(
        reverse("complaints:file"), {"category": "", "text": "  ", "contact_name": "王五"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "请选择举报类别。" in page and "请填写举报内容（发生了什么）。" in page
    assert 'value="王五"' in page
    assert not Complaint.objects.exists()


def test_an_institution_category_needs_the_institution_named(world, client):
    response = client.post(reverse("complaints:file"), {"category": C.FEES, "text": "收了一年学费"})
    assert "请在名录中选择被举报的机构，或填写机构名称（无证机构）。" in response.content.decode()
    response = client.post(
        reverse("complaints:file"),
        {"category": C.FEES, "text": "收了一年学费", "institution_name": "无证小饭桌",
         "institution_address": "某路1号"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Complaint.objects.get().institution_name == "无证小饭桌"


def test_a_file_of_the_wrong_type_or_too_large_refuses_everything(world, client, settings):
    settings.PORTAL_EVIDENCE_MAX_BYTES = 100
    for upload, message in (
        (SimpleUploadedFile("a.pdf", b"just text", content_type="application/pdf"),
         "不是 PDF、JPG 或 PNG 文件"),
        (SimpleUploadedFile("b.png", PNG, content_type="image/png"), "超过大小上限"),
    ):  # fmt: skip
        response = client.post(reverse("complaints:file"), {
            "category": C.OVERTIME, "institution_name": "某机构", "text": "晚上十点上课",
            "files": [upload],
        })  # fmt: skip
        page = response.content.decode()
        assert response.status_code == 400 and message in page and "举报未提交" in page
        assert "晚上十点上课" in page  # what was typed is kept
    assert not Complaint.objects.exists() and not ComplaintFile.objects.exists()
    assert stored_files() == []


def test_files_written_before_a_failure_are_removed(world, monkeypatch):
    # the second file's row fails after the first file was written: both files go
    photos = [SimpleUploadedFile(f"{i}.png", PNG) for i in range(2)]
    real = ComplaintFile.objects.create
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(ComplaintFile.objects, "create", failing)
    with pytest.raises(RuntimeError):
        file_one(institution_name="某机构", files=photos)
    assert stored_files() == [] and not Complaint.objects.exists()


def test_the_text_cap_is_a_boundary(world, settings):
    settings.PORTAL_COMPLAINT_TEXT_MAX_CHARS = 10
    file_one(institution_name="某机构", text="甲" * 10)
    with pytest.raises(ValidationError) as exc:
        file_one(institution_name="某机构", text="甲" * 11)
    assert "举报内容最多 10 个字，现为 11 个字。" in exc.value.message_dict["text"]


def test_a_flood_from_one_address_gets_the_chinese_429_page(world, client, settings):
    settings.PORTAL_COMPLAINT_RATE_PER_HOUR = 2
    valid = {"category": C.OVERTIME, "institution_name": "某机构", "text": "晚上十点上课"}
    # refused input does not use up the address's filings
    assert client.post(reverse("complaints:file"), {"category": ""}).status_code == 400
    for _ in range(2):
        assert client.post(reverse("complaints:file"), valid).status_code == 302
    response = client.post(reverse("complaints:file"), valid)
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode() and response["Retry-After"] == "3600"
    assert Complaint.objects.count() == 2
    # another address is not affected
    other = client.post(reverse("complaints:file"), valid, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_the_honeypot_stores_nothing(world, client):
    response = client.post(reverse("complaints:file"), {
        "category": C.OVERTIME, "institution_name": "某机构", "text": "晚上十点上课",
        "website": "http://spam.example",
    })  # fmt: skip
    assert response.status_code == 400 and "提交未成功" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_logged_in_parent_sees_their_own_complaints_only(world, client_for):
    client = client_for(world.parent_a)
    client.post(reverse("complaints:file"), {
        "category": C.HOMEWORK, "school": world.school_a.pk, "text": "每晚作业三小时",
    })  # fmt: skip
    file_one(institution_name="别人的机构", text="别人的举报")  # anonymous
    mine = Complaint.objects.get(parent__user=world.parent_a)
    page = client.get(reverse("complaints:mine")).content.decode()
    assert "学校作业超量" in page and "别人的机构" not in page
    assert mine.line == Complaint.Line.HOMEWORK
    assert client_for(world.principal_a).get(reverse("complaints:mine")).status_code == 403


# --- routing and grouping ----------------------------------------------------------------


@pytest.mark.parametrize("category, line", [
    (C.DISGUISED, "institutions"), (C.OVERTIME, "institutions"), (C.AHEAD, "institutions"),
    (C.FEES, "institutions"), (C.CLOSED_DOWN, "institutions"), (C.OTHER, "institutions"),
    (C.HOMEWORK, "homework"), (C.AFTERSCHOOL, "afterschool"), (C.PAID_TUTORING, "bureau"),
])  # fmt: skip
def test_each_category_goes_to_its_line(world, category, line):
    c, _code = file_one(category=category, institution_name="某机构", school_id=world.school_a.pk)
    assert c.line == line


def test_repeats_within_the_window_are_grouped_under_the_first(world, institution, settings):
    first, _ = file_one(institution_id=institution.pk)
    second, _ = file_one(institution_id=institution.pk)
    other_category, _ = file_one(category=C.FEES, institution_id=institution.pk)
    assert second.group_head == first and other_category.group_head is None
    # the window is a boundary: a head received more than 30 days ago starts a new group
    Complaint.objects.filter(pk=first.pk).update(
        received_at=timezone.now()
        - dt.timedelta(days=settings.PORTAL_COMPLAINT_GROUP_DAYS, hours=1)
    )
    third, _ = file_one(institution_id=institution.pk)
    assert third.group_head is None
    # free-text names group by the name, spaces and case aside
    a, _ = file_one(institution_name="阳光 小课堂")
    b, _ = file_one(institution_name="阳光小课堂")
    assert b.group_head == a


# --- handling ----------------------------------------------------------------------------


def test_the_steps_from_receipt_to_reply(world, training):
    c, code = file_one(category=C.HOMEWORK, school_id=world.school_a.pk)
    homework = world.bureau  # bureau staff of the homework line
    complaints.complaint_accept(actor=homework, complaint_id=c.pk)
    complaints.complaint_assign(actor=homework, complaint_id=c.pk, school_id=world.school_a.pk)
    photo = SimpleUploadedFile("整改.jpg", b"\xff\xd8\xff" + b"0" * 100)
    complaints.complaint_answer(
        actor=world.principal_a, complaint_id=c.pk, answer="已约谈班主任，作业减量", files=[photo]
    )
    complaints.complaint_close(actor=homework, complaint_id=c.pk, reply="经核查属实，已整改。")
    c.refresh_from_db()
    assert c.status == S.CLOSED and c.reply == "经核查属实，已整改。" and c.closed_at
    assert list(c.steps.values_list("action", flat=True)) == [
        "filed",
        "accepted",
        "assigned",
        "answered",
        "closed",
    ]
    actions = set(AuditLog.objects.values_list("action", flat=True))
    for step in ("accepted", "assigned", "answered", "closed"):
        assert f"institutions.complaint.{step}" in actions
    # the training line cannot touch the homework line's complaint
    with pytest.raises(PermissionDenied):
        complaints.complaint_close(actor=training, complaint_id=c.pk, reply="x")


def test_moves_outside_the_table_are_refused_with_the_state(world, training):
    c, _ = file_one(institution_name="某机构")
    with pytest.raises(ValidationError) as exc:
        complaints.complaint_close(actor=training, complaint_id=c.pk, reply="答复")
    assert "当前为“已收到，待受理”，不能变为“已办结”" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        complaints.complaint_reject(actor=training, complaint_id=c.pk, reason="  ")
    assert exc.value.message_dict["reason"]
    complaints.complaint_reject(actor=training, complaint_id=c.pk, reason="不属于本局管辖")
    c.refresh_from_db()
    assert c.status == S.REJECTED and c.reply == "不属于本局管辖"
    assert ComplaintStep.objects.filter(complaint=c).count() == 2


def test_an_institution_complaint_is_not_assigned_to_a_school(world, training):
    c, _ = file_one(institution_name="某机构")
    complaints.complaint_accept(actor=training, complaint_id=c.pk)
    with pytest.raises(ValidationError) as exc:
        complaints.complaint_assign(actor=training, complaint_id=c.pk, school_id=world.school_a.pk)
    assert "不交办学校" in exc.value.message_dict["school"][0]
    complaints.complaint_answer(actor=training, complaint_id=c.pk, answer="已现场检查，责令停课")
    c.refresh_from_db()
    assert c.status == S.ANSWERED


def test_paid_tutoring_is_the_superusers(world, training, superuser):
    c, _ = file_one(category=C.PAID_TUTORING, school_id=world.school_a.pk)
    for staff in (training, world.bureau):
        with pytest.raises(PermissionDenied):
            complaints.complaint_accept(actor=staff, complaint_id=c.pk)
    complaints.complaint_accept(actor=superuser, complaint_id=c.pk)


def test_a_school_answers_only_what_is_assigned_to_it(world):
    c, _ = file_one(category=C.AFTERSCHOOL, school_id=world.school_a.pk)
    staff = staff_of("课后服务", "kehou")
    complaints.complaint_accept(actor=staff, complaint_id=c.pk)
    complaints.complaint_assign(actor=staff, complaint_id=c.pk, school_id=world.school_a.pk)
    with pytest.raises(PermissionDenied):
        complaints.complaint_answer(actor=world.principal_b, complaint_id=c.pk, answer="x")
    with pytest.raises(PermissionDenied):  # a teacher is not a manager: not the school's door
        complaints.complaint_answer(actor=world.teacher_a, complaint_id=c.pk, answer="x")


def test_the_contact_is_shown_to_the_handling_staff_once_audited(world, training, client_for):
    c, _ = file_one(institution_name="某机构", contact_name="赵六", contact_phone="13712345678")
    client = client_for(training)
    page = client.get(reverse("complaints:staff_detail", args=[c.pk])).content.decode()
    assert "137****5678" in page and "13712345678" not in page and "赵六" not in page
    listing = client.get(reverse("complaints:staff_list")).content.decode()
    assert "137****5678" in listing and "13712345678" not in listing
    shown = client.post(reverse("complaints:staff_contact", args=[c.pk])).content.decode()
    assert "13712345678" in shown and "赵六" in shown
    row = AuditLog.objects.get(action="institutions.complaint.contact_shown")
    assert row.actor == training and "13712345678" not in str(row.new)


def test_the_register_search_narrows_the_institution_select(world, institution, training, client):
    make_institution(training, world.school_a.district, name="蓝天艺术培训中心")
    page = client.get(reverse("complaints:file"), {"q": "启航"}).content.decode()
    assert "启航学科培训学校" in page and "蓝天艺术培训中心" not in page
    page = client.get(reverse("complaints:file")).content.decode()
    assert "启航学科培训学校" in page and "蓝天艺术培训中心" in page


def test_the_parents_and_schools_lists_run_in_fixed_queries(
    world, client_for, django_assert_max_num_queries
):
    for i in range(6):
        c, _ = file_one(category=C.HOMEWORK, school_id=world.school_a.pk, text=f"第{i}件")
        Complaint.objects.filter(pk=c.pk).update(parent=world.parent_a.parent)
        complaints.complaint_accept(actor=world.bureau, complaint_id=c.pk)
        complaints.complaint_assign(
            actor=world.bureau, complaint_id=c.pk, school_id=world.school_a.pk
        )
    for user, name in ((world.parent_a, "complaints:mine"),
                       (world.principal_a, "complaints:school_list")):  # fmt: skip
        client = client_for(user)
        with django_assert_max_num_queries(10):
            page = client.get(reverse(name)).content.decode()
        assert page.count("学校作业超量") >= 6
