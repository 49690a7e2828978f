"""Many parents at once: the last place is never given twice (two real connections; the
control test shows the race with the lock off)."""

import threading
import time

import pytest
from django.db import connection

from afterschool import enrolment as svc
from afterschool.models import Enrolment
from tests.afterschool.helpers import family, offering

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock):
    course = offering(world.school_a, capacity=1)
    people = family(world.class_a, 2, prefix=f"race{int(lock)}")
    barrier = threading.Barrier(2)

    def parent(user, child):
        try:
            barrier.wait()
            svc.enrol(user=user, child_id=child.pk, offering_id=course.pk, lock=lock)
        finally:
            connection.close()

    original = svc._after_count_read
    svc._after_count_read = lambda: time.sleep(0.3)  # both count before either writes
    try:
        threads = [threading.Thread(target=parent, args=p) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        svc._after_count_read = original
    return sorted(Enrolment.objects.filter(offering=course).values_list("status", flat=True))


def test_without_the_lock_two_parents_get_the_last_place(world):
    assert _race(world, lock=False) == ["enrolled", "enrolled"]  # capacity 1: the race


def test_with_the_lock_one_gets_it_and_the_other_waits(world):
    assert _race(world, lock=True) == ["enrolled", "waiting"]
