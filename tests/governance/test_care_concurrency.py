"""Two staff open a record for the same pupil at the same moment, on two real database
connections (the head teacher and the principal, say).

A pause in the service (care._pause) holds each opening after it has checked that the pupil
has no record. The control test switches the row lock off and shows the race really
happens: both pass the check, and the second meets the one-to-one key — an IntegrityError,
a 500 for its user instead of the rule. The real test shows the child row's lock closes it:
the second waits, then sees the first record and is refused with the rule's message."""

import threading
import time

import pytest
from django.db import connection

from governance import care
from governance.care_models import CareRecord
from tests.governance.care_helpers import head_of, term_around_today

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock: bool):
    term_around_today(world.school_a.district)
    head = head_of(world.class_a, "bzr_a", "一班班主任")
    actors = [head, world.principal_a]
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i, actor):
        try:
            barrier.wait()
            care.record_open(actor=actor, child_id=world.child_a.pk, categories=["留守儿童"])
            results[i] = "ok"
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[i] = type(exc).__name__
        finally:
            connection.close()  # each thread had its own connection

    original_pause, original_lock = care._pause, care._lock
    care._pause = lambda: time.sleep(0.4)
    if not lock:
        care._lock = lambda queryset, **options: queryset
    try:
        threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actors)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        care._pause, care._lock = original_pause, original_lock
    return sorted(results)


def test_control_without_the_lock_the_second_opening_meets_the_key(world):
    assert _race(world, lock=False) == ["IntegrityError", "ok"]
    assert CareRecord.objects.filter(child=world.child_a).count() == 1


def test_with_the_lock_the_second_opening_is_refused_by_the_rule(world):
    assert _race(world, lock=True) == ["ValidationError", "ok"]
    assert CareRecord.objects.filter(child=world.child_a).count() == 1
