"""The last bed of a month of lunch care is never given twice: two parents ask for it at
once on two real connections; with the offering's lock one gets it and the other waits, and
the control without the lock shows both lying down on one bed."""

import threading
import time

import pytest
from django.db import connection

from afterschool import lunch
from afterschool.lunch_models import LunchChoice
from afterschool.models import Enrolment
from tests.afterschool.lunch_helpers import families, open_month

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock):
    m = open_month(world, seats=5, beds=1)
    people = families(world.class_a, 2, prefix=f"bedrace{int(lock)}")
    barrier = threading.Barrier(2)

    def parent(user, child):
        try:
            barrier.wait()
            lunch.enrol(user=user, child_id=child.pk, month_id=m.pk,
                        arrangement=LunchChoice.Arrangement.BED, days=[0, 1, 2, 3, 4],
                        lock=lock)  # fmt: skip
        finally:
            connection.close()

    original = lunch._after_beds_read
    lunch._after_beds_read = lambda: time.sleep(0.3)  # both count the beds before either writes
    try:
        threads = [threading.Thread(target=parent, args=p) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        lunch._after_beds_read = original
    return sorted(
        Enrolment.objects.filter(offering=m.offering).values_list("status", flat=True)
    ), lunch.beds_taken(m.offering_id)


def test_without_the_lock_two_children_get_the_last_bed(world):
    assert _race(world, lock=False) == (["enrolled", "enrolled"], 2)  # beds 1: the race


def test_with_the_lock_one_gets_the_last_bed_and_the_other_waits(world):
    assert _race(world, lock=True) == (["enrolled", "waiting"], 1)
