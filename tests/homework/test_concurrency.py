"""Two teachers publish for one class at the same moment, on two real connections.

The control test switches the lock off and shows the race really happens (both pass the
check, the day ends over the limit); the real test shows the lock closes it."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from homework import services
from homework.models import HomeworkItem
from tests.factories import SchoolClassFactory
from tests.homework.conftest import DAY, item_data

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, school_class, *, lock: bool):
    barrier = threading.Barrier(2)
    results = []

    def pause():
        # both read the day's total before either writes: the window a race needs
        time.sleep(0.3)

    def teacher(user, subject):
        try:
            barrier.wait()
            services.homework_publish(
                user=user, school_class_id=school_class.pk, date=DAY, lock=lock,
                **item_data(subject=subject, minutes=30),
            )  # fmt: skip
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connection.close()  # each thread had its own connection

    original = services._after_total_read
    services._after_total_read = pause
    try:
        threads = [
            threading.Thread(target=teacher, args=(world.teacher_a, "语文")),
            threading.Thread(target=teacher, args=(world.principal_a, "数学")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        services._after_total_read = original
    total = sum(
        HomeworkItem.objects.filter(school_class=school_class).values_list("minutes", flat=True)
    )
    return sorted(results), total


def test_without_the_lock_two_teachers_push_the_day_over_the_limit(world):
    school_class = SchoolClassFactory(school=world.school_a, grade=4, number=7)
    services.homework_publish(
        user=world.teacher_a,
        school_class_id=school_class.pk,
        date=DAY,
        **item_data(subject="英语", minutes=20),
    )
    results, total = _race(world, school_class, lock=False)
    assert results == ["ok", "ok"]
    assert total == 80  # over the 60-minute limit: the race is real


def test_with_the_lock_only_one_of_them_gets_in(world):
    school_class = SchoolClassFactory(school=world.school_a, grade=4, number=8)
    services.homework_publish(
        user=world.teacher_a,
        school_class_id=school_class.pk,
        date=DAY,
        **item_data(subject="英语", minutes=20),
    )
    results, total = _race(world, school_class, lock=True)
    assert results == ["ok", "refused"]
    assert total == 50
