"""The dashboard's aggregate warning levels agree with the escrow pages' account states."""

from decimal import Decimal

import pytest

from institutions import escrow
from institutions.models import SupervisedAccount
from tests.factories import DistrictFactory
from tests.institutions.conftest import buy, escrow_institution

pytestmark = pytest.mark.django_db


def test_warning_levels_match_the_account_states(escrow_staff):
    district = DistrictFactory()
    full = escrow_institution(name="甲", district=district)
    short = escrow_institution(name="乙", district=district)
    deposit = escrow_institution(
        name="丙", kind="deposit", deposit="1000", scale=500, district=district
    )
    escrow_institution(name="无账户", kind=None, district=district)
    buy(escrow_staff, full, key="P1", lessons=7, amount="1000.00")
    buy(escrow_staff, short, key="P2", lessons=3, amount="100.00")
    escrow.lessons_consume(actor=escrow_staff, purchase_id=short.purchases.get().pk, total=1)
    # take money out of 乙's escrow behind the ledger's back would be refused; a red level
    # comes from a deposit short of its requirement instead
    accounts = SupervisedAccount.objects.filter(active=True, institution__district=district)
    expected = sorted(
        s.level for s in escrow.account_states(accounts.select_related("institution"))
    )
    counts = escrow.warning_levels(district)
    assert sorted(level for level, n in counts.items() for _ in range(n)) == expected
    assert "red" in expected or "yellow" in expected  # 丙's deposit is under the requirement
    assert deposit.supervised_account.deposit_amount == Decimal("1000")
