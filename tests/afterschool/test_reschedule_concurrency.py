"""Two reschedules into the same room at the same time, at once: with the school's lock one
is refused; the control test, lock off, shows both would pass. Two real connections."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from afterschool import operations
from afterschool.models import Lesson, LessonMove, Room
from tests.afterschool.fees_helpers import early, paid_course, today
from tests.factories import SchoolStaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock):
    a = paid_course(world.school_a, fee="0", name="航模")
    b = paid_course(world.school_a, fee="0", name="机器人", start=dt.time(17), end=dt.time(18))
    b.teacher = SchoolStaffFactory(school=world.school_a, name="机器人老师")
    b.save()
    hall = Room.objects.create(school=world.school_a, name="科技馆", capacity=50)
    day = today() + dt.timedelta(weeks=1)
    targets = [Lesson.objects.get(offering=o, date=day) for o in (a, b)]
    barrier = threading.Barrier(2)
    refused = []

    def move(lesson):
        try:
            barrier.wait()
            operations.lesson_move(
                user=world.principal_a,
                lesson_id=lesson.pk,
                day=day,
                start=dt.time(18, 30),
                end=dt.time(19, 30),
                room_id=hall.pk,
                reason="科技周",
                now=early(a),
                lock=lock,
            )
        except ValidationError as exc:
            refused.append(exc.messages[0])
        finally:
            connection.close()

    original = operations._after_busy_check
    operations._after_busy_check = lambda: time.sleep(0.3)  # both check before either writes
    try:
        threads = [threading.Thread(target=move, args=(lesson,)) for lesson in targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        operations._after_busy_check = original
    return LessonMove.objects.count(), refused


def test_without_the_lock_two_lessons_land_in_one_room(world):
    assert _race(world, lock=False) == (2, [])


def test_with_the_lock_the_second_move_is_refused(world):
    moves, refused = _race(world, lock=True)
    assert moves == 1 and refused == ["该教室在该时段已被占用。"]
