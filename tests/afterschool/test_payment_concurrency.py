"""Two payments of one bill arriving at once (two tabs, or the gateway and a bank transfer):
with the bill's row lock the second is handed back; the control test, lock off, shows that
both would be taken and the family charged twice. Two real connections."""

import threading
import time

import pytest
from django.db import connection

from afterschool import enrolment, fees, payments
from afterschool.models import Bill, Payment
from tests.afterschool.fees_helpers import early, paid_course

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock):
    course = paid_course(world.school_a)
    e = enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    bill = Bill.objects.get(enrolment=e)
    tabs = [
        Payment.objects.create(
            bill=bill,
            provider="sandbox",
            reference=f"AS-TAB-{i}",
            amount=bill.amount,
            by=world.parent_a,
        )
        for i in range(2)
    ]
    gateway = payments.PROVIDERS["sandbox"]
    notes = [gateway.notification(p) for p in tabs]
    barrier = threading.Barrier(2)

    def deliver(body, sig):
        try:
            barrier.wait()
            payments.notify("sandbox", body, sig, lock=lock)
        finally:
            connection.close()

    original = payments._after_bill_read
    payments._after_bill_read = lambda: time.sleep(0.3)  # both read the bill before either books
    try:
        threads = [threading.Thread(target=deliver, args=n) for n in notes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        payments._after_bill_read = original
    statuses = sorted(Payment.objects.filter(bill=bill).values_list("status", flat=True))
    return statuses, fees.held(bill)


def test_without_the_lock_the_family_pays_one_bill_twice(world):
    assert _race(world, lock=False) == (["succeeded", "succeeded"], 120)


def test_with_the_lock_the_second_payment_is_handed_back(world):
    assert _race(world, lock=True) == (["refunded", "succeeded"], 60)
