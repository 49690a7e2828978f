import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal import compliance
from portal.compliance import Found, register, run_checks
from portal.models import CalendarYear, CheckRun, Finding, School, SchoolStaff
from tests.factories import SchoolFactory, SchoolStaffFactory

pytestmark = pytest.mark.django_db

NO_PRINCIPAL = "portal.school.no_principal"
CALENDAR = "portal.calendar.next_year_missing"
DAY = dt.date(2026, 3, 2)


def test_a_school_without_a_principal_is_found():
    lonely = SchoolFactory(name="无校长小学")
    staffed = SchoolFactory()
    SchoolStaffFactory(school=staffed, role=SchoolStaff.Role.PRINCIPAL)
    run = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert run.status == CheckRun.Status.SUCCEEDED
    findings = Finding.objects.filter(rule=NO_PRINCIPAL)
    assert [f.school for f in findings] == [lonely]
    assert "无校长小学没有启用的校长账号" in findings[0].message
    assert run.findings_new == 1 and run.findings_seen == 1


def test_an_inactive_principal_does_not_count():
    school = SchoolFactory()
    SchoolStaffFactory(school=school, role=SchoolStaff.Role.PRINCIPAL, user__is_active=False)
    run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert Finding.objects.filter(school=school, resolved_at=None).exists()


def test_a_rerun_of_the_same_night_duplicates_nothing():
    SchoolFactory.create_batch(3)
    run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    second = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert Finding.objects.filter(rule=NO_PRINCIPAL).count() == 3
    assert second.findings_new == 0 and second.findings_seen == 3


def test_a_finding_that_no_longer_holds_is_resolved_not_deleted():
    school = SchoolFactory()
    run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    SchoolStaffFactory(school=school, role=SchoolStaff.Role.PRINCIPAL)
    run = run_checks(for_date=DAY + dt.timedelta(days=1), rules=[NO_PRINCIPAL])
    finding = Finding.objects.get(school=school)
    assert finding.resolved_at is not None
    assert finding.first_seen == DAY and finding.last_seen == DAY
    assert run.findings_resolved == 1
    # and when it comes back, a new finding opens beside the resolved one
    school.staff.all().delete()
    run_checks(for_date=DAY + dt.timedelta(days=2), rules=[NO_PRINCIPAL])
    assert Finding.objects.filter(school=school).count() == 2
    assert Finding.objects.filter(school=school, resolved_at=None).count() == 1


def test_the_work_is_split_into_chunks_that_cover_every_school(settings):
    settings.PORTAL_CHECK_CHUNK_SIZE = 2
    SchoolFactory.create_batch(5)
    run = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert run.chunks.count() == 3
    assert Finding.objects.filter(rule=NO_PRINCIPAL).count() == 5


@pytest.fixture
def exploding_check():
    code = "tests.explodes"

    @register(code, title="会出错的检查", severity="warning", over=lambda: School.objects.all())
    def explodes(for_date, schools):
        for school in schools:
            if school.name == "炸":
                raise RuntimeError("boom")
            yield Found(subject=school, school=school, message="找到")

    yield code
    compliance._registry.pop(code)


def test_a_failing_check_resolves_nothing_and_records_the_error(exploding_check):
    SchoolFactory(name="好")
    run_checks(for_date=DAY, rules=[exploding_check])
    assert Finding.objects.filter(rule=exploding_check, resolved_at=None).count() == 1
    SchoolFactory(name="炸")
    run = run_checks(for_date=DAY, rules=[exploding_check])
    assert run.status == CheckRun.Status.FAILED
    assert "RuntimeError: boom" in run.error
    assert run.finished_at is not None
    # the earlier finding is not taken for fixed because the rule broke
    assert Finding.objects.filter(rule=exploding_check, resolved_at=None).count() == 1


@pytest.mark.parametrize(
    "day, expected",
    [
        (dt.date(2026, 10, 31), []),
        (dt.date(2026, 11, 1), ["2027"]),
        (dt.date(2026, 12, 31), ["2027"]),
    ],
)
def test_next_years_holidays_are_asked_for_from_november(day, expected):
    run_checks(for_date=day, rules=[CALENDAR])
    open_keys = list(
        Finding.objects.filter(rule=CALENDAR, resolved_at=None).values_list(
            "subject_repr", flat=True
        )
    )
    assert open_keys == expected


def test_entering_next_year_resolves_the_calendar_finding():
    run_checks(for_date=dt.date(2026, 11, 24), rules=[CALENDAR])
    CalendarYear.objects.create(year=2027, source="staff")
    run_checks(for_date=dt.date(2026, 11, 25), rules=[CALENDAR])
    assert not Finding.objects.filter(rule=CALENDAR, resolved_at=None).exists()


def test_the_command_runs_all_checks_for_a_date(capsys):
    SchoolFactory()
    call_command("run_checks", "--date", "2026-11-24")
    out = capsys.readouterr().out
    assert "2026-11-24" in out and "发现 2 条" in out
    assert set(Finding.objects.values_list("rule", flat=True)) == {NO_PRINCIPAL, CALENDAR}


def test_the_command_rejects_a_bad_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_checks", "--date", "2026-13-01")


def test_the_nightly_schedule_is_registered_at_two_in_the_morning():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="portal.checks.nightly")
    assert (task.crontab.hour, task.crontab.minute) == ("2", "0")
    assert str(task.crontab.timezone) == "Asia/Shanghai"
