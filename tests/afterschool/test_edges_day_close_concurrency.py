"""Closing a day racing a reschedule into that day, on two real connections. With the
school's lock the close waits for the move and then refuses (the day has a moved lesson);
the control, the close's school lock removed, shows the race: the move checked the day was
open, the close found no lesson that day and closed it, and a lesson is left scheduled on a
day the school has closed."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from afterschool import operations
from afterschool.models import ClosedDay, Lesson
from tests.afterschool.fees_helpers import paid_course, today

pytestmark = pytest.mark.django_db(transaction=True)


def _open_weekday_next_week():
    """A weekday of next week without a lesson of the course (which meets on today's
    weekday)."""
    return next(
        day for day in (today() + dt.timedelta(days=n) for n in range(8, 14)) if day.weekday() < 5
    )


def _race(world, monkeypatch, *, close_lock):
    course = paid_course(world.school_a, fee="0")
    lesson = course.lessons.get(date=today() + dt.timedelta(weeks=2))
    day = _open_weekday_next_week()
    checked, closed = threading.Event(), threading.Event()
    refused, errors = [], []

    def after_busy_check():
        # the move has found the day open and free: the close runs now, and the move waits
        # for it to finish (or, with the lock, for its lock wait to show)
        checked.set()
        closed.wait(1.5)

    def move():
        try:
            operations.lesson_move(
                user=world.principal_a,
                lesson_id=lesson.pk,
                day=day,
                start=dt.time(15, 30),
                end=dt.time(16, 30),
                room_id=None,
                reason="运动会调课",
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def close():
        try:
            checked.wait(10)
            operations.day_close(user=world.principal_a, day=day, reason="停电检修")
        except ValidationError as exc:
            refused.append(exc.messages[0])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            closed.set()
            connection.close()

    monkeypatch.setattr(operations, "_after_busy_check", after_busy_check)
    if not close_lock:
        real = operations._lock_school

        def lock_school(school_id):  # the move keeps its lock; the close takes none
            if threading.current_thread().name != "close":
                real(school_id)

        monkeypatch.setattr(operations, "_lock_school", lock_school)
    threads = [threading.Thread(target=move), threading.Thread(target=close, name="close")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    scheduled = Lesson.objects.filter(
        offering__school=world.school_a, date=day, status=Lesson.Status.SCHEDULED
    ).count()
    return ClosedDay.objects.filter(school=world.school_a, date=day).exists(), scheduled, refused


def test_without_the_school_lock_a_lesson_is_left_on_a_closed_day(world, monkeypatch):
    is_closed, scheduled, refused = _race(world, monkeypatch, close_lock=False)
    assert (is_closed, scheduled, refused) == (True, 1, [])  # the race


def test_with_the_school_lock_the_close_waits_and_refuses_the_moved_day(world, monkeypatch):
    is_closed, scheduled, refused = _race(world, monkeypatch, close_lock=True)
    assert (is_closed, scheduled) == (False, 1)
    assert len(refused) == 1 and "已调课" in refused[0]
