"""Two payouts on one purchase at the same moment, on two real database connections.

Pauses in the service (escrow._pause) hold each payout after it has read the purchase's
sums, and again after it has posted and checked, before it commits. The control test
switches the row lock off and shows the race really happens: both releases read the same
balance, both pay, the escrow pays out twice what the parent paid. The real tests show the
lock closes it, for two releases and for a release against a full refund; and that even
without the lock the ledger check stops a second refund that meets the first one's row."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from institutions import escrow
from institutions.escrow_models import EscrowEntry, ReleaseKind, ReleaseRule
from portal import ledger
from tests.institutions.conftest import START, buy, escrow_institution

pytestmark = pytest.mark.django_db(transaction=True)

PAID = Decimal("1000.00")
DAY = START + dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def purchase(escrow_staff):
    """Every lesson confirmed, nothing released yet: the delay rule's day has come."""
    inst = escrow_institution()
    ReleaseRule.objects.create(institution=inst, kind=ReleaseKind.DELAY, delay_days=1)
    purchase = buy(escrow_staff, inst, amount=str(PAID), lessons=10)
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=10)
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=10, today=START)
    assert escrow.purchase_sums(purchase).released == 0
    return purchase


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def pause(point):
        # "read": both have read the sums before either posts; "posted": both have posted
        # and checked before either commits. Under the lock the second waits for the row
        # instead, and these pauses only make the first one slower.
        time.sleep(0.4)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = "paid" if call() is not None else "nothing"
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[i] = type(exc).__name__
        finally:
            connection.close()  # each thread had its own connection

    original = escrow._pause
    escrow._pause = pause
    try:
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        escrow._pause = original
    return sorted(results)


def _paid_out(purchase):
    sums = escrow.purchase_sums(purchase)
    return sums.released + sums.refunded


def _release(staff, purchase, lock):
    return lambda: escrow.escrow_release(actor=staff, purchase_id=purchase.pk, today=DAY, lock=lock)


def test_without_the_lock_two_releases_pay_out_twice_what_was_paid(escrow_staff, purchase):
    results = _race(
        _release(escrow_staff, purchase, False), _release(escrow_staff, purchase, False)
    )
    assert results == ["paid", "paid"]
    assert _paid_out(purchase) == 2 * PAID  # the race is real
    assert ledger.balance(EscrowEntry, purchase.account) == PAID  # the parent's account > 0


def test_with_the_lock_the_second_release_finds_nothing_left(escrow_staff, purchase):
    results = _race(_release(escrow_staff, purchase, True), _release(escrow_staff, purchase, True))
    assert results == ["nothing", "paid"]
    assert _paid_out(purchase) == PAID


def test_with_the_lock_a_release_and_a_full_refund_never_pay_more_than_was_paid(
    escrow_staff, purchase
):
    results = _race(
        _release(escrow_staff, purchase, True),
        lambda: escrow.refund_full(actor=escrow_staff, purchase_id=purchase.pk, reason="跑路"),
    )
    assert "paid" in results and set(results) <= {"paid", "nothing"}
    assert _paid_out(purchase) == PAID
    assert escrow.purchase_sums(purchase).held == 0


def test_without_the_lock_the_ledger_check_still_stops_a_second_full_refund(escrow_staff, purchase):
    # The status update makes the second refund wait for the first to commit; then it
    # posts, reads the parent's account over zero, and rolls back.
    def refund():
        return escrow.refund_full(
            actor=escrow_staff, purchase_id=purchase.pk, reason="停业", lock=False
        )

    results = _race(refund, refund)
    assert results == ["LedgerError", "paid"]
    assert _paid_out(purchase) == PAID
