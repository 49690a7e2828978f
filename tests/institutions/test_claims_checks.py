"""The nightly check and the dashboard panel of 消课 claims."""

import datetime as dt

import pytest

from institutions import claims
from institutions.claim_checks import many_disputes
from institutions.claim_dashboard import claims_status
from portal.dashboard import Filters
from tests.institutions.claim_helpers import DAY, institution_with_staff, paid_purchase

T = dt.time
NIGHT = dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


def _claims(world, n_disputed, n_confirmed):
    inst, staff = institution_with_staff()
    parent = world.parent_a.parent
    p = paid_purchase(inst, parent, lessons=30)
    made = [
        claims.claim_record(actor=staff, course_id=p.course_id, purchase_ids=[p.pk],
                            date=DAY + dt.timedelta(days=i), start=T(18, 0), end=T(18, 45),
                            today=NIGHT)[0]
        for i in range(n_disputed + n_confirmed)
    ]  # fmt: skip
    for c in made[:n_disputed]:
        claims.claim_dispute(actor=parent.user, claim_id=c.pk, reason="没上课")
    for c in made[n_disputed:]:
        claims.claim_confirm(actor=parent.user, claim_id=c.pk, today=NIGHT)
    return inst


def test_five_disputes_in_twenty_five_answers_is_a_finding(world):
    inst = _claims(world, 5, 20)  # 5 of 25 = 20 %: the boundary
    [found] = list(many_disputes(NIGHT))
    assert found.subject == inst and "有异议5节（20%）" in found.message


def test_four_disputes_or_a_smaller_share_is_not(world):
    _claims(world, 4, 0)
    assert list(many_disputes(NIGHT)) == []


def test_a_smaller_share_is_not_a_finding(world):
    _claims(world, 5, 21)  # 5 of 26 < 20 %
    assert list(many_disputes(NIGHT)) == []


def test_the_panel_counts_the_months_claims_by_answer(world, django_assert_num_queries):
    inst = _claims(world, 1, 2)
    with django_assert_num_queries(1):
        panel = claims_status(Filters(district=inst.district, month="2026-03"))
    values = {b.label: b.value for b in panel.series[0].bars}
    assert values == {"待确认": 0, "已确认": 2, "有异议": 1, "逾期自动确认": 0}
    assert ("有异议", "1（33%）") in panel.figures
