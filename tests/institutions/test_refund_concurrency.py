"""Refunds against the escrow's other payouts at the same moment, on two real database
connections (the house's pattern: tests/institutions/test_escrow_concurrency.py).

The escrow's pauses (escrow._pause) record where each transaction is; at "posted" (after a
payout has posted and checked the ledger, before it commits) the one that got there first
waits for the other, up to a second and a half: without the lock both get there and commit
together; under the lock the other is waiting for the purchase's row, the wait times out
and the first commits.

(a) The parent confirms lessons while the institution agrees to the refund. The control
    (the escrow's lock off for the refund) shows the race is real: the refund reads the
    purchase and its sums while the confirmation is inside its transaction. The sums stay
    right even so, and the test says why: the refund's amount is the value of the lessons
    not *consumed*, which a confirmation never changes, and the refund's write of the
    purchase row waits for the confirmation's. With the lock the two do not overlap at all.
(b) A release is running while the institution agrees to the refund: the control (locks
    off) shows the escrow paying the same lessons out twice — the release, and the release
    the refund makes as it ends the purchase — twice what the parent paid; with the lock
    the second finds nothing left.
"""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from institutions import escrow, refunds
from institutions.escrow_models import EscrowEntry, ReleaseKind, ReleaseRule
from institutions.refund_models import RefundRequest
from portal import ledger
from tests.institutions.conftest import START, escrow_institution
from tests.institutions.refund_helpers import org_staff, paid_out, paid_purchase

pytestmark = pytest.mark.django_db(transaction=True)

PAID = Decimal("1000.00")
DAY = START + dt.timedelta(days=1)
S = RefundRequest.Status


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


def _race(first, second):
    """Run ``first`` until it has read the purchase's sums, then ``second`` beside it.
    Returns (results by name, trace of (name, point) in the order they happened)."""
    trace, lock = [], threading.Lock()
    first_in = threading.Event()
    meet = threading.Barrier(2, timeout=1.5)
    results = {}

    def pause(point):
        name = threading.current_thread().name
        with lock:
            trace.append((name, point))
        if name == "first" and point == "read":
            first_in.set()
        if point == "posted":
            try:
                meet.wait()
            except threading.BrokenBarrierError:
                pass  # the other is waiting for the row lock (or already done)
            with lock:
                trace.append((name, "commits"))  # nothing of it is left but the commit

    def run(name, call):
        try:
            call()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[name] = type(exc).__name__
        finally:
            with lock:
                trace.append((name, "done"))
            first_in.set()
            connection.close()  # each thread had its own connection

    original = escrow._pause
    escrow._pause = pause
    try:
        one = threading.Thread(target=run, args=("first", first), name="first")
        two = threading.Thread(target=run, args=("second", second), name="second")
        one.start()
        first_in.wait(10)
        two.start()
        for t in (one, two):
            t.join(30)
    finally:
        escrow._pause = original
    return results, trace


def _overlap(trace) -> bool:
    """Whether the second read the sums before the first went on to commit its payout."""
    return trace.index(("second", "read")) < trace.index(("first", "commits"))


# --- (a) the parent confirms while the institution agrees -----------------------------------


@pytest.fixture
def confirming():
    """1000.00 for 10 lessons, 6 consumed, 4 confirmed (400.00 released); a refund asked."""
    purchase = paid_purchase(consumed=6, confirmed=4, starts_on=START)
    request = refunds.request_ask(
        actor=purchase.parent.user, purchase_id=purchase.pk, reason="搬家", today=START
    )
    return purchase, request, org_staff(purchase.institution, "finance")


def _confirm_and_agree(purchase, request, staff, lock):
    return _race(
        lambda: escrow.lessons_confirm(
            actor=purchase.parent.user, purchase_id=purchase.pk, total=6, today=DAY
        ),
        lambda: refunds.request_answer(
            actor=staff, request_id=request.pk, agree=True, today=DAY, lock=lock
        ),
    )


def _sums_right(purchase, request):
    sums = escrow.purchase_sums(purchase)
    request.refresh_from_db()
    assert request.status == S.REFUNDED
    assert request.refund_amount == Decimal("400.00")  # 4 lessons not consumed at the refund
    assert sums.refunded == request.refund_amount
    assert sums.released == Decimal("600.00")  # the 6 confirmed lessons
    assert sums.released + sums.refunded == sums.paid == PAID
    assert ledger.balance(EscrowEntry, purchase.account) == 0


def test_without_the_lock_the_refund_reads_inside_the_confirmation_yet_the_sums_hold(confirming):
    purchase, request, staff = confirming
    results, trace = _confirm_and_agree(purchase, request, staff, lock=False)
    assert results == {"first": "ok", "second": "ok"}
    assert _overlap(trace)  # the race is real: the refund read while the confirmation ran
    _sums_right(purchase, request)


def test_with_the_lock_the_refund_waits_for_the_confirmation(confirming):
    purchase, request, staff = confirming
    results, trace = _confirm_and_agree(purchase, request, staff, lock=True)
    assert results == {"first": "ok", "second": "ok"}
    assert not _overlap(trace)
    _sums_right(purchase, request)


# --- (b) a release is running while the institution agrees ----------------------------------


@pytest.fixture
def releasing():
    """Delay rule (1 day): the refund was asked at 6 of 10 lessons; since then all 10 were
    consumed and confirmed on START, so on DAY the release of 1000.00 is due and nothing is
    left unconsumed."""
    inst = escrow_institution()
    ReleaseRule.objects.create(institution=inst, kind=ReleaseKind.DELAY, delay_days=1)
    purchase = paid_purchase(institution=inst, consumed=6, starts_on=START)
    request = refunds.request_ask(
        actor=purchase.parent.user, purchase_id=purchase.pk, reason="不想上了", today=START
    )
    staff = org_staff(inst, "admin")
    escrow.lessons_consume(actor=staff, purchase_id=purchase.pk, total=10)
    escrow.lessons_confirm(actor=purchase.parent.user, purchase_id=purchase.pk, total=10,
                           today=START)  # fmt: skip
    assert escrow.purchase_sums(purchase).released == 0
    return purchase, request, staff


def _release_and_agree(purchase, request, staff, lock):
    return _race(
        lambda: escrow.escrow_release(
            actor="system", purchase_id=purchase.pk, today=DAY, lock=lock
        ),  # fmt: skip
        lambda: refunds.request_answer(
            actor=staff, request_id=request.pk, agree=True, today=DAY, lock=lock
        ),
    )


def test_without_the_lock_a_release_and_a_refund_pay_the_same_lessons_twice(releasing):
    purchase, request, staff = releasing
    results, trace = _release_and_agree(purchase, request, staff, lock=False)
    assert results == {"first": "ok", "second": "ok"}
    assert _overlap(trace)
    assert paid_out(purchase) == 2 * PAID  # the race is real
    assert ledger.balance(EscrowEntry, purchase.account) == PAID  # the parent's account > 0


def test_with_the_lock_a_release_and_a_refund_never_pay_more_than_was_paid(releasing):
    purchase, request, staff = releasing
    results, trace = _release_and_agree(purchase, request, staff, lock=True)
    assert results == {"first": "ok", "second": "ok"}
    assert not _overlap(trace)
    sums = escrow.purchase_sums(purchase)
    assert sums.released == PAID and sums.refunded == 0  # nothing was left unconsumed
    request.refresh_from_db()
    assert request.status == S.AGREED and request.refund_amount == 0
    assert ledger.balance(EscrowEntry, purchase.account) == 0


def test_with_the_lock_the_refund_first_then_the_release_still_pays_once(releasing):
    purchase, request, staff = releasing
    results, trace = _race(
        lambda: refunds.request_answer(actor=staff, request_id=request.pk, agree=True, today=DAY),
        lambda: escrow.escrow_release(actor="system", purchase_id=purchase.pk, today=DAY),
    )
    assert results == {"first": "ok", "second": "ok"}
    assert not _overlap(trace)
    assert paid_out(purchase) == PAID
