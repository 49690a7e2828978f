"""Two paid notices of one sale at the same moment, on two real database connections (two
gateway events, or a gateway event and a bank line). The control switches the purchase's
row lock off: both read "awaiting payment" and both are recorded as the sale's payment,
though the ledger holds the money once (the second payment would be lost). With the lock the
second waits, finds the sale paid and is kept as money to return."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connection

from afterschool import payments
from institutions import sales
from institutions.escrow_models import EscrowTransaction
from institutions.sale_models import SaleNotice
from tests.institutions.sale_helpers import accept, make_offer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def sale():
    p = make_offer(amount="800.00")
    accept(p)
    return p


def _race(sale, lock):
    gateway = payments.PROVIDERS["sandbox"]
    payable = SimpleNamespace(reference=sale.idempotency_key, amount=sale.amount)
    notices = [gateway.notification(payable) for _ in range(2)]  # two events, two ids
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i):
        try:
            barrier.wait()
            results[i] = sales.sale_notify("sandbox", *notices[i], lock=lock).outcome
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[i] = type(exc).__name__
        finally:
            connection.close()

    original = sales._pause
    sales._pause = lambda point: time.sleep(0.4)  # both have read before either books
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sales._pause = original
    return sorted(results)


def test_without_the_lock_two_notices_are_both_taken_as_the_payment(sale):
    assert _race(sale, lock=False) == ["paid", "paid"]  # the race is real
    assert EscrowTransaction.objects.filter(purchase=sale).count() == 1  # one booked: one lost


def test_with_the_lock_the_second_notice_is_kept_to_return(sale):
    assert _race(sale, lock=True) == ["not_payable", "paid"]
    assert EscrowTransaction.objects.filter(purchase=sale).count() == 1
    assert SaleNotice.objects.filter(outcome="not_payable").count() == 1
