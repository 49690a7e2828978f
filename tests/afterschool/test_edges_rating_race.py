"""Two submissions of the same rating or term survey at the same moment (a double tap, two
devices), on two real connections: one row, one audit row, and the other submission gets a
Chinese message, never an IntegrityError (a 500). There is no check-then-insert to race:
the unique constraint decides."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from afterschool import enrolment, lessons
from afterschool.models import Rating, TermSurvey
from portal.models import AuditLog
from tests.afterschool.fees_helpers import early, paid_course, today

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ended(world):
    course = paid_course(world.school_a, fee="0", weeks=(-2, -1, 0))
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    course.lessons.filter(date__gte=today()).delete()
    return course


def _twice(submit):
    barrier = threading.Barrier(2)
    done, refused, errors = [], [], []

    def run(n):
        try:
            barrier.wait()
            done.append(submit(n))
        except ValidationError as exc:
            refused.append(exc.messages[0])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    return len(done), refused


def test_two_ratings_at_once_make_one(world, ended):
    made, refused = _twice(
        lambda n: lessons.rating_give(user=world.parent_a, offering_id=ended.pk, stars=n)
    )
    # issue 13: one rating per child and course, the child named
    assert (made, refused) == (1, ["您已评价过这门课程（甲同学），每个孩子每门课程只能评价一次。"])
    assert Rating.objects.count() == 1
    assert AuditLog.objects.filter(action="afterschool.rating.given").count() == 1


def test_two_survey_answers_at_once_make_one(world, ended):
    made, refused = _twice(
        lambda n: lessons.survey_answer(
            user=world.parent_a,
            school_id=world.school_a.pk,
            term_id=ended.plan.term_id,
            answer=["very", "neutral"][n - 1],
        )
    )
    assert (made, refused) == (1, ["本学期已经填写过问卷。"])
    assert TermSurvey.objects.count() == 1
    assert AuditLog.objects.filter(action="afterschool.survey.answered").count() == 1
