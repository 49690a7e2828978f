"""A run writes its findings and tells of them in as many statements for 3 schools as for 30
(issue 20: the refresh was a Django bulk_update, ~3 ms of Python a finding, and the finish
told each finding with statements of its own)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.compliance import run_checks
from portal.models import CheckRun, Finding, Notice, SchoolStaff
from tests.factories import DistrictFactory, SchoolFactory, SchoolStaffFactory

RULE = "portal.school.no_principal"
DAY = dt.date(2026, 11, 24)
NEXT = DAY + dt.timedelta(days=1)


def _schools(n, district):
    schools = SchoolFactory.create_batch(n, district=district)
    for school in schools:  # 教导处: told of the school's new findings
        SchoolStaffFactory(school=school, role=SchoolStaff.Role.ACADEMIC)
    return schools


def _run(day):
    with CaptureQueriesContext(connection) as ctx:
        run = run_checks(for_date=day, rules=[RULE])
    assert run.status == CheckRun.Status.SUCCEEDED, run.error
    return run, len(ctx.captured_queries)


@pytest.mark.django_db(transaction=True)  # the notices are written once the run commits
def test_a_night_costs_as_many_statements_for_3_schools_as_for_30():
    # every run on the same night: each one tells again of the night's new findings (the
    # notices' keys keep one per user)
    district = DistrictFactory()
    _schools(1, district)
    _run(DAY)
    _schools(2, district)
    _, open_2 = _run(DAY)  # 2 new findings, 1 refreshed
    _, refresh_3 = _run(DAY)
    first = {f.subject_key: f.pk for f in Finding.objects.filter(rule=RULE)}

    _schools(27, district)
    _, open_27 = _run(DAY)  # 27 new findings, 3 refreshed
    _, refresh_30 = _run(DAY)

    assert open_27 == open_2  # opening and telling of 27: no statement per finding
    assert refresh_30 == refresh_3
    findings = Finding.objects.filter(rule=RULE, resolved_at=None)
    assert findings.count() == 30
    # refreshed in place: the same rows, seen by the last run
    for key, pk in first.items():
        assert findings.get(subject_key=key).pk == pk
    assert set(findings.values_list("last_run", flat=True)) == {CheckRun.objects.latest("pk").pk}
    assert {f.message for f in findings} == {
        f"{f.school.name}没有启用的校长账号，请在管理后台为学校添加校长。" for f in findings
    }
    # each school's 教导处 heard once of its school's finding, however many runs saw it
    notices = Notice.objects.filter(key__endswith=":new")
    assert notices.count() == 30
    assert {(n.user_id, n.key) for n in notices} == {
        (s.user_id, f"finding:{f.pk}:new")
        for f in findings
        for s in SchoolStaff.objects.filter(school=f.school)
    }


@pytest.mark.django_db(transaction=True)
def test_a_school_given_a_principal_is_resolved_and_the_others_refreshed():
    district = DistrictFactory()
    schools = _schools(3, district)
    _run(DAY)
    SchoolStaffFactory(school=schools[0], role=SchoolStaff.Role.PRINCIPAL)
    run, _ = _run(NEXT)
    assert run.findings_resolved == 1 and run.findings_new == 0
    open_ = Finding.objects.filter(rule=RULE, resolved_at=None)
    assert {f.school_id for f in open_} == {s.pk for s in schools[1:]}
    assert set(open_.values_list("last_seen", flat=True)) == {NEXT}
