"""A withdrawal racing an enrolment for the last place, on two real connections. With the
course's lock the place freed by the withdrawal goes to the child who asked for it; the
control, the withdrawal's course lock removed, shows the race: the enrolment counted the
leaving child's place as taken and went on the waiting list, the withdrawal looked for
someone waiting before that child was there, and the course ends with its place empty and
a child waiting for it."""

import threading

import pytest
from django.db import connection

from afterschool import enrolment as svc
from afterschool.models import Enrolment
from tests.afterschool.helpers import family, offering

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, monkeypatch, *, lock):
    course = offering(world.school_a, capacity=1)
    (leaver, leaving), (joiner, joining) = family(world.class_a, 2, prefix=f"wd{int(lock)}")
    held = svc.enrol(user=leaver, child_id=leaving.pk, offering_id=course.pk)
    assert held.status == Enrolment.Status.ENROLLED  # the last place
    counted, withdrawn = threading.Event(), threading.Event()
    errors = []

    def after_count():
        # the enrolment has counted the places taken: the withdrawal runs now, and the
        # enrolment waits for it to finish (or, with the lock, for its lock wait to show)
        counted.set()
        withdrawn.wait(1.5)

    def enrol():
        try:
            svc.enrol(user=joiner, child_id=joining.pk, offering_id=course.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def withdraw():
        try:
            counted.wait(10)
            svc.withdraw(user=leaver, enrolment_id=held.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            withdrawn.set()
            connection.close()

    monkeypatch.setattr(svc, "_after_count_read", after_count)
    if not lock:
        monkeypatch.setattr(svc, "_lock_course", lambda offering_id: None)
    threads = [threading.Thread(target=enrol), threading.Thread(target=withdraw)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    return {
        "leaving": Enrolment.objects.get(pk=held.pk).status,
        "joining": Enrolment.objects.get(child=joining, offering=course).status,
        "enrolled": Enrolment.objects.filter(
            offering=course, status=Enrolment.Status.ENROLLED
        ).count(),
    }


def test_without_the_course_lock_the_freed_place_stays_empty_while_a_child_waits(
    world, monkeypatch
):
    assert _race(world, monkeypatch, lock=False) == {
        "leaving": "withdrawn",
        "joining": "waiting",  # the race: capacity 1, nobody enrolled, a child waiting
        "enrolled": 0,
    }


def test_with_the_course_lock_the_freed_place_goes_to_the_child_who_asked(world, monkeypatch):
    assert _race(world, monkeypatch, lock=True) == {
        "leaving": "withdrawn",
        "joining": "enrolled",
        "enrolled": 1,
    }
