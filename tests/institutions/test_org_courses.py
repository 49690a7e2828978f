"""Courses filed by the institution (课程备案, issue 16 part 2): the course rules on the
institution's form, the bureau's approve/return, the public page hides what is not approved,
black or suspended institutions file nothing, another institution's course is a 404."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from institutions import accounts, services
from institutions.models import Course
from portal.models import AuditLog, Notice
from tests.factories import InstitutionStaffFactory
from tests.institutions.org_helpers import COURSE, bureau_staff, org, org_world  # noqa: F401

pytestmark = pytest.mark.django_db
F = Course.Filing
SLOTS = [{"weekday": 2, "start": dt.time(18, 30), "end": dt.time(19, 15)}]
DATA = {
    "name": "初中数学提高班", "subject": "数学", "mode": "offline", "lesson_minutes": 45,
    "class_size": 20, "price_per_lesson": Decimal("25.00"),
    "term_start": dt.date(2026, 11, 2), "term_end": dt.date(2026, 12, 25),
}  # fmt: skip


def file(user, course_id=None, submit=True, slots=SLOTS, **overrides):
    return services.course_file(
        actor=user, course_id=course_id, submit=submit, slots=slots, **{**DATA, **overrides}
    )


@pytest.mark.parametrize("price, ok", [("27.49", True), ("27.50", True), ("27.51", False)])
def test_the_price_cap_through_the_institutions_form(client_for, org, price, ok):  # noqa: F811
    _staff, inst, admin = org
    response = client_for(admin).post(
        reverse("org:course_new"), {**COURSE, "price_per_lesson": price}
    )
    if ok:
        assert response.status_code == 302
        course = Course.objects.get(institution=inst)
        assert course.filing == F.SUBMITTED and course.price_per_lesson == Decimal(price)
    else:
        html = response.content.decode()
        assert response.status_code == 200 and "上限为 27.50 元" in html
        assert f'value="{price}"' in html  # what was typed stays
        assert not Course.objects.filter(institution=inst).exists()


def test_every_problem_is_named_on_submission(org):  # noqa: F811
    _staff, _inst, admin = org
    with pytest.raises(ValidationError) as exc:
        file(
            admin, price_per_lesson=Decimal("99"),
            slots=[{"weekday": 2, "start": dt.time(20, 0), "end": dt.time(20, 45)}],
        )  # fmt: skip
    errors = exc.value.message_dict
    assert "超过政府指导价" in errors["price_per_lesson"][0]
    assert "20:30 前结束" in errors["slots"][0]


def test_approve_then_a_change_files_it_again(org):  # noqa: F811
    staff, inst, admin = org
    course = file(admin)
    assert course.filing == F.SUBMITTED and accounts.course_sellable(course)
    assert "须经教育局备案" in accounts.course_sellable(course)
    services.course_filing_decide(actor=staff, course_id=course.pk, approve=True)
    course.refresh_from_db()
    assert course.filing == F.APPROVED and accounts.course_sellable(course) is None
    assert AuditLog.objects.filter(action="institutions.course.approved").exists()
    # the same data again: nothing changes
    file(admin, course_id=course.pk)
    course.refresh_from_db()
    assert course.filing == F.APPROVED
    # a change after approval: 待备案 again, not sellable
    file(admin, course_id=course.pk, price_per_lesson=Decimal("26.00"))
    course.refresh_from_db()
    assert course.filing == F.SUBMITTED and accounts.course_sellable(course)


def test_return_needs_a_reason_and_tells_the_institution(org, django_capture_on_commit_callbacks):  # noqa: F811
    staff, inst, admin = org
    course = file(admin)
    with pytest.raises(ValidationError, match="退回时请填写理由"):
        services.course_filing_decide(actor=staff, course_id=course.pk, approve=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.course_filing_decide(
            actor=staff, course_id=course.pk, approve=False, reason="价格表述不清"
        )
    course.refresh_from_db()
    assert course.filing == F.RETURNED and course.filing_reason == "价格表述不清"
    assert Notice.objects.filter(user=admin, message__contains="价格表述不清").exists()
    # a returned course cannot be approved without a new filing
    with pytest.raises(ValidationError, match="不在待备案状态"):
        services.course_filing_decide(actor=staff, course_id=course.pk, approve=True)
    # filed again (unchanged data is fine: the filing is what the bureau asked for)
    file(admin, course_id=course.pk)
    course.refresh_from_db()
    assert course.filing == F.SUBMITTED and course.filing_reason == ""


def test_a_draft_is_not_in_the_queue(client_for, org):  # noqa: F811
    staff, _inst, admin = org
    course = file(admin, submit=False)
    assert course.filing == F.DRAFT
    html = client_for(staff).get(reverse("org:filings")).content.decode()
    assert course.name not in html
    with pytest.raises(ValidationError, match="不在待备案状态"):
        services.course_filing_decide(actor=staff, course_id=course.pk, approve=True)


def test_courses_made_by_the_bureau_are_approved(org):  # noqa: F811
    staff, inst, _admin = org
    course = services.course_save(actor=staff, institution=inst, slots=SLOTS, **DATA)
    assert course.filing == F.APPROVED


@pytest.mark.parametrize("how", ["suspended", "black"])
def test_black_or_suspended_institutions_file_nothing(client_for, org, how):  # noqa: F811
    staff, inst, admin = org
    if how == "suspended":
        services.institution_suspend(actor=staff, institution_id=inst.pk, reason="停业整顿")
    else:
        inst.licence_revoked = True
        inst.save(update_fields=["licence_revoked"])
    with pytest.raises(ValidationError, match="不能提交课程备案"):
        file(admin)
    # it still logs in and reads its home page
    html = client_for(admin).get(reverse("org:home")).content.decode()
    assert "不能提交课程备案或收费" in html
    response = client_for(admin).post(reverse("org:course_new"), COURSE)
    assert response.status_code == 200 and "不能提交课程备案" in response.content.decode()
    assert not Course.objects.filter(institution=inst).exists()


def test_course_sellable_follows_the_institution(org):  # noqa: F811
    staff, inst, admin = org
    course = services.course_save(actor=staff, institution=inst, slots=SLOTS, **DATA)
    assert accounts.course_sellable(course) is None
    services.institution_suspend(actor=staff, institution_id=inst.pk, reason="停业整顿")
    course = Course.objects.select_related("institution").get(pk=course.pk)
    assert "暂停办学" in accounts.course_sellable(course)


def test_the_public_page_hides_courses_not_approved(client, org):  # noqa: F811
    staff, inst, admin = org
    course = file(admin, name="待审核的课程")
    url = reverse("institutions:detail", args=[inst.pk])
    assert "待审核的课程" not in client.get(url).content.decode()
    services.course_filing_decide(actor=staff, course_id=course.pk, approve=True)
    assert "待审核的课程" in client.get(url).content.decode()


def test_the_public_page_keeps_its_query_count(client, org, django_assert_num_queries):  # noqa: F811
    staff, inst, admin = org
    for i in range(5):
        services.course_save(
            actor=staff, institution=inst, slots=SLOTS, **{**DATA, "name": f"课{i}"}
        )
    file(admin, name="待审核")
    url = reverse("institutions:detail", args=[inst.pk])
    client.get(url)  # warm the policy rows
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get(url)
    services.course_save(actor=staff, institution=inst, slots=SLOTS, **{**DATA, "name": "课9"})
    with django_assert_num_queries(len(first)):
        client.get(url)


def test_another_institutions_course_is_a_404_and_others_are_refused(client_for, world, org):  # noqa: F811
    staff, inst, admin = org
    _s, other_inst, other_admin = org_world(world, staff=staff, name="别家培训", username="b2")
    theirs = file(other_admin)
    assert client_for(admin).get(reverse("org:course_edit", args=[theirs.pk])).status_code == 404
    response = client_for(admin).post(reverse("org:course_edit", args=[theirs.pk]), COURSE)
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        file(admin, course_id=theirs.pk)
    assert "周三数学" not in client_for(admin).get(reverse("org:courses")).content.decode()
    finance = InstitutionStaffFactory(institution=inst, role="finance").user
    assert client_for(finance).get(reverse("org:course_new")).status_code == 403
    assert client_for(finance).get(reverse("org:courses")).status_code == 200
    for user in (world.principal_a, world.parent_a, world.bureau, staff):
        assert client_for(user).get(reverse("org:courses")).status_code == 403
    for user in (admin, world.principal_a, world.parent_a, world.bureau):
        assert client_for(user).get(reverse("org:filings")).status_code == 403
        assert client_for(user).get(reverse("org:accounts")).status_code == 403


def test_the_bureau_decides_through_the_page(client_for, org):  # noqa: F811
    staff, inst, admin = org
    course = file(admin)
    client = client_for(staff)
    assert course.name in client.get(reverse("org:filings")).content.decode()
    url = reverse("org:filing_decide", args=[course.pk])
    bad = client.post(url, {"decision": "return", "reason": ""})
    assert "退回时请填写理由" in bad.content.decode()
    assert client.post(url, {"decision": "approve"}).status_code == 302
    course.refresh_from_db()
    assert course.filing == F.APPROVED


def test_the_home_page_shows_colour_courses_staff_and_escrow(client_for, org):  # noqa: F811
    staff, inst, admin = org
    file(admin, name="待审核的课程")
    html = client_for(admin).get(reverse("org:home")).content.decode()
    assert "白名单" in html and "待审核的课程" in html and "待备案" in html
    assert "托管余额" in html and "一课一销" in html
    assert "6222020200112233" not in html
    desk = InstitutionStaffFactory(institution=inst, role="desk", name="前台小王").user
    desk_html = client_for(desk).get(reverse("org:home")).content.decode()
    assert "管理人员账号" not in desk_html and "管理人员账号" in html


def test_the_home_page_costs_a_fixed_number_of_queries(
    client_for,
    org,  # noqa: F811
    django_assert_max_num_queries,
):
    staff, inst, admin = org
    for i in range(6):
        file(admin, name=f"课程{i}")
    client = client_for(admin)
    client.get(reverse("org:home"))
    # session, user and its kind (3), institution, account, balance, purchases, verdict (4),
    # record (2), courses + slots, staff, release rule + policy: 20 whatever the courses;
    # the panels of sales (2), claims (2) and refunds (1): 25
    with django_assert_max_num_queries(25):
        client.get(reverse("org:home"))
