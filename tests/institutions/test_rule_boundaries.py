"""The escrow warning levels at their thresholds (issue 12, item 9).

Red is *below* 80 % of what an account must cover, yellow *below* 100 % (EscrowPolicy):
exactly at 80 % is yellow, one cent under is red; exactly at 100 % is no warning, one cent
under is yellow. Each judge of the level is held to it: ``EscrowPolicy.level``, the pages'
``account_states``, the dashboard's SQL (``warning_levels``) and the nightly checks."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

import institutions.escrow_checks  # noqa: F401 - registers the checks
from institutions import escrow
from institutions.escrow_models import EscrowPolicy
from institutions.escrow_views import statement_parse
from institutions.models import SupervisedAccount
from portal.compliance import run_checks
from portal.models import Finding
from tests.factories import DistrictFactory
from tests.institutions.conftest import buy, escrow_institution

pytestmark = pytest.mark.django_db

D = Decimal
DAY = dt.date(2026, 11, 24)
SEVERITY = {"": None, "yellow": Finding.Severity.WARNING, "red": Finding.Severity.SERIOUS}

# (have, need) -> level; need 50000.00 is the default deposit of a 100-pupil institution
# (100 × 500, also the floor), 1000.00 the unconsumed value of a 10-lesson purchase
BOUNDARIES = [
    ("40000.00", "50000.00", "yellow"),  # exactly 80 %: not red
    ("39999.99", "50000.00", "red"),  # one cent under 80 %
    ("50000.00", "50000.00", ""),  # exactly 100 %: no warning
    ("49999.99", "50000.00", "yellow"),  # one cent under 100 %
    ("800.00", "1000.00", "yellow"),
    ("799.99", "1000.00", "red"),
    ("1000.00", "1000.00", ""),
    ("999.99", "1000.00", "yellow"),
]


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.mark.parametrize("have, need, level", BOUNDARIES)
def test_the_policy_judges_the_level_at_the_threshold(have, need, level):
    policy = EscrowPolicy.current()
    assert (policy.red_below_percent, policy.yellow_below_percent) == (D("80"), D("100"))
    assert policy.level(D(have), D(need)) == level


DEPOSITS = [("40000.00", "yellow"), ("39999.99", "red"), ("50000.00", ""), ("49999.99", "yellow")]


@pytest.mark.parametrize("deposit, level", DEPOSITS)
def test_a_deposit_at_the_threshold_on_the_pages_the_dashboard_and_the_check(deposit, level):
    district = DistrictFactory()
    inst = escrow_institution(kind="deposit", deposit=deposit, scale=100, district=district)
    account = SupervisedAccount.objects.select_related("institution").get(institution=inst)
    (state,) = escrow.account_states([account])
    assert (state.have, state.need, state.level) == (D(deposit), D("50000.00"), level)
    assert escrow.warning_levels(district) == {
        lvl: int(lvl == level) for lvl in ("", "yellow", "red")
    }
    result = run_checks(for_date=DAY, rules=["institutions.escrow.deposit_short"])
    assert not result.error
    found = Finding.objects.filter(rule="institutions.escrow.deposit_short", resolved_at=None)
    assert [f.severity for f in found] == ([SEVERITY[level]] if level else [])


def take_out(staff, inst, amount):
    """A bank line the ledger does not know (money taken out), booked by staff."""
    today = timezone.localdate().isoformat()
    rows, _encoding = statement_parse(f"日期,金额,参考号\n{today},{amount},\n".encode())
    escrow.statement_import(
        actor=staff, account_id=inst.supervised_account.pk, filename="x.csv", rows=rows
    )
    line = inst.supervised_account.statement_lines.latest("id")
    escrow.bank_line_book(actor=staff, line_id=line.pk, memo="未经释放的划转")


@pytest.mark.parametrize(
    "taken, level", [("-200.00", "yellow"), ("-200.01", "red"), ("-0.01", "yellow")]
)
def test_an_escrow_balance_at_the_threshold(escrow_staff, taken, level):
    district = DistrictFactory()
    inst = escrow_institution(district=district)
    buy(escrow_staff, inst, key="B-1", amount="1000.00", lessons=10)
    account = SupervisedAccount.objects.select_related("institution").get(institution=inst)
    assert escrow.account_states([account])[0].level == ""  # 1000 of 1000
    take_out(escrow_staff, inst, taken)
    (state,) = escrow.account_states([account])
    assert (state.have, state.need) == (D("1000.00") + D(taken), D("1000.00"))
    assert state.level == level
    assert escrow.warning_levels(district)[level] == 1
    run_checks(for_date=DAY, rules=["institutions.escrow.balance_short"])
    finding = Finding.objects.get(rule="institutions.escrow.balance_short", resolved_at=None)
    assert finding.severity == SEVERITY[level]
    assert ("红色预警" in finding.message) is (level == "red")
