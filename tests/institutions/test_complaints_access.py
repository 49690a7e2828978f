"""Who sees which complaint (issue 15): anonymous files and tracks only; bureau staff of
another line get 403; a school sees only what is assigned to it (another school's: 404) and
never the complainant; the nightly checks and the dashboard panels."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from institutions import complaint_checks, complaint_dashboard, complaints
from institutions.complaint_models import Complaint, ComplaintFile
from portal.dashboard import Filters
from portal.models import CalendarDay
from tests.institutions.complaint_helpers import PNG, next_year_known, staff_of

pytestmark = pytest.mark.django_db

C = Complaint.Category


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    next_year_known()


def assigned_to(world, school, *, contact=True):
    """A homework complaint about ``school``, accepted and assigned to it."""
    c, _code = complaints.complaint_file(
        category=C.HOMEWORK, school_id=school.pk, text="作业太多",
        contact_name="家长甲" if contact else "", contact_phone="13811112222" if contact else "",
        files=[SimpleUploadedFile("举报.png", PNG)],
    )  # fmt: skip
    complaints.complaint_accept(actor=world.bureau, complaint_id=c.pk)
    complaints.complaint_assign(actor=world.bureau, complaint_id=c.pk, school_id=school.pk)
    return c


STAFF_PAGES = ["complaints:staff_list", "complaints:school_list", "complaints:mine"]


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_anonymous_gets_the_login_page_for_everything_but_filing_and_tracking(world, client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get(reverse("complaints:file")).status_code == 200
    assert client.get(reverse("complaints:track")).status_code == 200


def test_bureau_staff_of_another_line_get_403(world, client_for):
    c = assigned_to(world, world.school_a)  # the homework line's
    training = client_for(staff_of("校外培训", "xiaowai"))
    assert training.get(reverse("complaints:staff_detail", args=[c.pk])).status_code == 403
    assert training.post(reverse("complaints:staff_act", args=[c.pk, "close"]),
                         {"reply": "x"}).status_code == 403  # fmt: skip
    assert training.post(reverse("complaints:staff_contact", args=[c.pk])).status_code == 403
    listing = training.get(reverse("complaints:staff_list")).content.decode()
    assert f"#{c.pk}<" not in listing
    cases = client_for(staff_of("案例库", "anli"))
    assert cases.get(reverse("complaints:staff_list")).status_code == 403
    assert (
        client_for(world.bureau).get(reverse("complaints:staff_detail", args=[c.pk])).status_code
        == 200
    )


def test_a_school_sees_only_its_assigned_complaints_and_never_the_complainant(world, client_for):
    mine = assigned_to(world, world.school_a)
    theirs = assigned_to(world, world.school_b)
    not_assigned, _ = complaints.complaint_file(
        category=C.HOMEWORK, school_id=world.school_a.pk, text="未交办"
    )
    client = client_for(world.principal_a)
    listing = client.get(reverse("complaints:school_list")).content.decode()
    assert f"举报 #{mine.pk}" in listing
    assert f"举报 #{theirs.pk}" not in listing and f"举报 #{not_assigned.pk}" not in listing
    page = client.get(reverse("complaints:school_detail", args=[mine.pk])).content.decode()
    assert "作业太多" in page
    for secret in ("家长甲", "13811112222", "138****2222", "举报.png"):
        assert secret not in page
    for pk in (theirs.pk, not_assigned.pk):
        assert client.get(reverse("complaints:school_detail", args=[pk])).status_code == 404
        assert client.post(reverse("complaints:school_detail", args=[pk]),
                           {"answer": "x"}).status_code == 404  # fmt: skip
    assert client.get(reverse("complaints:staff_list")).status_code == 403
    assert client_for(world.teacher_a).get(reverse("complaints:school_list")).status_code == 403


def test_files_go_only_to_who_may_see_them(world, client_for):
    c = assigned_to(world, world.school_a)
    client = client_for(world.principal_a)
    client.post(reverse("complaints:school_detail", args=[c.pk]), {
        "answer": "已核查", "files": [SimpleUploadedFile("整改.png", PNG)],
    })  # fmt: skip
    theirs = ComplaintFile.objects.get(from_complainant=True)
    answer = ComplaintFile.objects.get(from_complainant=False)
    assert client.get(reverse("complaints:evidence", args=[answer.pk])).status_code == 200
    assert client.get(reverse("complaints:evidence", args=[theirs.pk])).status_code == 404
    other = client_for(world.principal_b)
    assert other.get(reverse("complaints:evidence", args=[answer.pk])).status_code == 404
    staff = client_for(world.bureau)
    response = staff.get(reverse("complaints:evidence", args=[theirs.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    anonymous = client_for(None).get(reverse("complaints:evidence", args=[theirs.pk]))
    assert anonymous.status_code == 302


def test_the_staff_list_shows_the_group_count_in_fixed_queries(
    world, client_for, django_assert_max_num_queries
):
    for _ in range(3):
        assigned_to(world, world.school_a)
    for i in range(5):
        complaints.complaint_file(category=C.HOMEWORK, school_id=world.school_b.pk,
                                  text=f"第{i}件")  # fmt: skip
    client = client_for(world.bureau)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("complaints:staff_list")).content.decode()
    assert 'data-testid="group-count">3 件' in page and 'data-testid="group-count">5 件' in page


# --- the nightly checks ------------------------------------------------------------------


def received(complaint, day: dt.date):
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    Complaint.objects.filter(pk=complaint.pk).update(received_at=at)


def found(rule, for_date):
    from portal.compliance import registry

    return list(registry()[rule].func(for_date))


def test_ack_overdue_counts_working_days_of_the_calendar(world):
    c, _ = complaints.complaint_file(category=C.OVERTIME, institution_name="某机构", text="x")
    received(c, dt.date(2026, 11, 27))  # a Friday
    rule = "institutions.complaint.ack_overdue"
    # Monday is the one working day allowed; Tuesday is past it
    assert found(rule, dt.date(2026, 11, 30)) == []
    assert [f.subject for f in found(rule, dt.date(2026, 12, 1))] == [c]
    # a statutory holiday on Monday is no working day: Tuesday is then the first
    CalendarDay.objects.create(date=dt.date(2026, 11, 30), kind="holiday", name="测试假日")
    assert found(rule, dt.date(2026, 12, 1)) == []
    complaints.complaint_accept(actor=staff_of("校外培训", "x1"), complaint_id=c.pk)
    assert found(rule, dt.date(2026, 12, 9)) == []


def test_close_overdue_after_fifteen_working_days_goes_to_the_school_and_its_line(world):
    c = assigned_to(world, world.school_a, contact=False)
    received(c, dt.date(2026, 11, 2))  # Monday; 15 working days later: Monday 23rd
    rule = "homework.complaint.close_overdue"
    assert found(rule, dt.date(2026, 11, 23)) == []
    [finding] = found(rule, dt.date(2026, 11, 24))
    assert finding.school == world.school_a and "16 个工作日" in finding.message
    assert "13811112222" not in finding.message
    assert found("institutions.complaint.close_overdue", dt.date(2026, 11, 24)) == []


def test_an_unknown_year_is_a_clear_error(world):
    from portal.models import CalendarYear
    from portal.schoolcalendar import CalendarUnknownDay

    c, _ = complaints.complaint_file(category=C.OVERTIME, institution_name="某机构", text="x")
    received(c, dt.date(2026, 12, 30))
    CalendarYear.objects.filter(year=2027).delete()
    with pytest.raises(CalendarUnknownDay, match="2027"):
        found("institutions.complaint.ack_overdue", dt.date(2027, 1, 5))


def test_the_checks_are_registered_per_line():
    from portal.compliance import registry

    codes = set(registry())
    for line in ("institutions", "homework", "afterschool", "portal"):
        assert {f"{line}.complaint.ack_overdue", f"{line}.complaint.close_overdue"} <= codes
    assert complaint_checks.RULE_LINE


# --- the dashboard -----------------------------------------------------------------------


def test_the_panels_count_by_category_status_and_age(world, django_assert_max_num_queries):
    district = world.school_a.district
    a = assigned_to(world, world.school_a)
    b, _ = complaints.complaint_file(category=C.HOMEWORK, school_id=world.school_a.pk, text="x")
    today = timezone.localdate()
    received(a, today - dt.timedelta(days=40))
    f = Filters(district=district, month=f"{today:%Y-%m}")
    with django_assert_max_num_queries(1):
        category = complaint_dashboard.by_category(f)
    with django_assert_max_num_queries(1):
        status = complaint_dashboard.by_status(f)
    with django_assert_max_num_queries(3):
        age = complaint_dashboard.by_age(f)
    cat = {b.label: b.value for b in category.series[0].bars}
    assert cat["学校作业超量"] == 1  # a was received 40 days ago, not this month
    st = {b.label: b.value for b in status.series[0].bars}
    assert st["已交办"] == 1 and st["已收到，待受理"] == 1
    ages = {b.label: b.value for b in age.series[0].bars}
    assert ages["超过 15 个工作日"] == 1 and ages["1 个工作日内"] == 1
    assert sum(ages.values()) == 2


def test_the_monthly_report_of_the_training_line_has_the_panels(world, client_for, superuser):
    import io

    from openpyxl import load_workbook

    assigned_to(world, world.school_a)
    response = client_for(superuser).get(reverse("dashboard:report", args=["institutions"]))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheets = load_workbook(io.BytesIO(body)).sheetnames
    assert any("举报投诉" in s for s in sheets)
    assert django_settings.PORTAL_COMPLAINT_CLOSE_WORKING_DAYS == 15


def test_the_admin_lists_complaints_read_only_with_the_contact_masked(world, client_for, superuser):
    c = assigned_to(world, world.school_a)
    client = client_for(superuser)
    listing = client.get("/admin/institutions/complaint/").content.decode()
    assert "138****2222" in listing and "13811112222" not in listing
    change = client.get(f"/admin/institutions/complaint/{c.pk}/change/")
    assert change.status_code == 200 and "13811112222" not in change.content.decode()
    assert client.get("/admin/institutions/complaint/add/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_first_complaints_filed_at_once_make_one_group(world):
    """The advisory lock on the group key: two filings at the same moment about the same
    institution and category, with no group yet, end as one head and one repeat under it
    (without the lock both could look, find no head, and both become heads)."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    made, errors = [], []

    def file(text):
        try:
            barrier.wait()
            made.append(
                complaints.complaint_file(
                    category=C.OVERTIME, institution_name="某机构", text=text
                )[0]
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=(t,)) for t in ("一", "二")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(made) == 2
    heads = [c for c in made if c.group_head_id is None]
    assert len(heads) == 1
    assert [c.group_head_id for c in made if c.group_head_id] == [heads[0].pk]
