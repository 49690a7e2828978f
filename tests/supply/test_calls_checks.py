"""The nightly check (a call past its deadline with scores missing) and the dashboard panel."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.compliance import run_checks
from portal.dashboard import Filters
from portal.models import Finding
from supply import calls
from supply.call_checks import call_scoring_overdue
from supply.call_dashboard import calls_panel
from tests.supply import call_helpers
from tests.supply.call_helpers import apply, bureau_officer, close, member, open_call, panel, score

pytestmark = pytest.mark.django_db

fast_passwords = call_helpers.fast_passwords


def test_a_call_with_scores_missing_after_the_scoring_days_is_a_finding(settings):
    settings.PORTAL_CALL_SCORING_DAYS = 14
    bureau = bureau_officer()
    call = open_call(bureau)
    a = apply(call, member())
    close(call)
    closed = timezone.localtime(call.deadline).date()
    assert list(call_scoring_overdue(closed + dt.timedelta(days=14))) == []  # on the last day
    (found,) = call_scoring_overdue(closed + dt.timedelta(days=15))
    assert "尚未指派评审专家" in found.message
    experts = panel(bureau, call, 3)
    score(experts[0], a, [1, 1, 1, 1, 1])
    (found,) = call_scoring_overdue(closed + dt.timedelta(days=15))
    assert "尚缺10项专家评分" in found.message
    for e in experts[1:]:
        score(e, a, [1, 1, 1, 1, 1])
    assert list(call_scoring_overdue(closed + dt.timedelta(days=15))) == []


def test_the_finding_is_written_and_resolved_by_the_nightly_run():
    bureau = bureau_officer()
    call = open_call(bureau)
    a = apply(call, member())
    close(call)
    day = timezone.localdate() + dt.timedelta(days=30)
    run_checks(for_date=day, rules=["supply.call.scoring_overdue"])
    finding = Finding.objects.get(rule="supply.call.scoring_overdue")
    assert finding.resolved_at is None
    for e in panel(bureau, call, 3):
        score(e, a, [1, 1, 1, 1, 1])
    run_checks(for_date=day, rules=["supply.call.scoring_overdue"])
    finding.refresh_from_db()
    assert finding.resolved_at is not None


def test_the_dashboard_panel_counts_calls_applications_and_admitted(
    world, django_assert_num_queries
):
    bureau = bureau_officer()
    call = open_call(bureau, admit_count=1)
    a1, a2 = apply(call, member()), apply(call, member())
    close(call)
    for e in panel(bureau, call, 3):
        score(e, a1, [20, 30, 25, 15, 10])
        score(e, a2, [10, 10, 10, 10, 10])
    calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
    f = Filters(district=world.school_a.district, month=timezone.localdate().strftime("%Y-%m"))
    with django_assert_num_queries(1):
        p = calls_panel(f)
    assert p.figures == [("征集", "1"), ("申报", "2"), ("准入", "1")]
