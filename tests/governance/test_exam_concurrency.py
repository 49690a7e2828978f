"""Two managers of one school entering the same subject's 期末 at the same moment, on two
real database connections. A pause in the service (exams._pause) holds each entry after it
has counted the term's exams. The control switches the school's row lock off and shows the
race: both count none, both are saved, the term has two 期末. With the lock the second
waits for the first to commit, counts one and is refused, naming the rule."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from governance import exams
from governance.exam_models import Exam
from portal.models import SchoolStaff
from tests.factories import SchoolStaffFactory
from tests.governance.pledge_helpers import term

pytestmark = pytest.mark.django_db(transaction=True)
DAY = dt.date(2026, 12, 20)


@pytest.fixture
def managers(world):
    term(world.school_a.district)
    academic = SchoolStaffFactory(
        school=world.school_a, role=SchoolStaff.Role.ACADEMIC, name="甲教导"
    )
    return world.principal_a, academic.user


def _race(managers, lock):
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i, user):
        try:
            barrier.wait()
            exams.exam_create(
                actor=user, subject="数学", grade=3, kind="final", date=DAY, lock=lock
            )
            results[i] = "saved"
        except ValidationError as exc:
            results[i] = exc.message_dict["kind"][0]
        finally:
            connection.close()

    original = exams._pause
    exams._pause = lambda point: time.sleep(0.4)
    try:
        threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate(managers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        exams._pause = original
    return sorted(results)


def test_without_the_lock_two_end_of_term_exams_slip_in(managers):
    assert _race(managers, lock=False) == ["saved", "saved"]
    assert Exam.objects.filter(kind="final", subject="数学").count() == 2  # the race is real


def test_with_the_lock_the_second_is_refused(managers):
    results = _race(managers, lock=True)
    assert results == ["saved", "每学期每门学科最多 1 次期末考试：2026秋季学期已安排 1 次。"]
    assert Exam.objects.filter(kind="final", subject="数学").count() == 1
