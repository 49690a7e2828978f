import datetime as dt

import pytest

from afterschool import enrolment, lessons
from afterschool.models import AfterschoolPolicy, Lesson, Offering, PlanItem, Room, SchoolPlan
from portal.compliance import run_checks
from portal.models import Finding
from tests.afterschool.fees_helpers import during, early, paid_course, today
from tests.afterschool.helpers import family

pytestmark = pytest.mark.django_db


def found(rule, for_date=None):
    run_checks(for_date=for_date or today() + dt.timedelta(days=1), rules=[rule])
    return set(
        Finding.objects.filter(rule=rule, resolved_at__isnull=True).values_list(
            "subject_repr", flat=True
        )
    )


def test_a_lesson_that_ended_without_a_roll_call_is_a_finding(world):
    course = paid_course(world.school_a, fee="0")
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    lesson = course.lessons.get(date=today())
    rule = "afterschool.lesson.no_roll_call"
    assert len(found(rule)) == 1  # today's lesson, judged tomorrow at 02:00
    assert found(rule, for_date=today()) == set()  # not before the day has ended
    lessons.roll_submit(
        user=world.teacher_a,
        lesson_id=lesson.pk,
        marks={world.child_a.pk: "present"},
        now=during(lesson),
    )
    assert found(rule) == set()


def test_a_course_whose_first_day_passed_without_lessons_is_a_finding(world):
    course = paid_course(world.school_a, fee="0")
    rule = "afterschool.offering.no_lessons"
    assert found(rule) == set()
    course.lessons.all().delete()
    assert found(rule) == {str(course)}
    Offering.objects.filter(pk=course.pk).update(starts_on=today() + dt.timedelta(days=8))
    assert found(rule) == set()  # its first day is next week


@pytest.mark.parametrize("present,found_it", [(3, True), (4, False), (5, False)])
def test_attendance_under_the_threshold_is_a_finding(world, present, found_it):
    """5 marks: 3 present is 60 %, 4 is 80 % (the threshold itself), 5 is 100 %."""
    assert AfterschoolPolicy.current().attendance_threshold == 80
    course = paid_course(world.school_a, fee="0", capacity=5)
    people = family(world.class_a, 5)
    for user, child in people:
        enrolment.enrol(user=user, child_id=child.pk, offering_id=course.pk, now=early(course))
    lesson = course.lessons.get(date=today())
    marks = {c.pk: "present" if i < present else "absent" for i, (_u, c) in enumerate(people)}
    lessons.roll_submit(user=world.teacher_a, lesson_id=lesson.pk, marks=marks, now=during(lesson))
    assert bool(found("afterschool.offering.low_attendance")) is found_it


def test_a_course_without_room_or_plan_or_over_its_room_is_a_finding(world):
    course = paid_course(world.school_a, fee="0", capacity=10)
    rule = "afterschool.offering.unfit"
    assert found(rule) == set()
    Room.objects.filter(pk=course.room_id).update(capacity=9)
    assert found(rule) == {str(course)}
    Room.objects.filter(pk=course.room_id).update(capacity=10)
    SchoolPlan.objects.filter(pk=course.plan_id).update(status=SchoolPlan.Status.RETURNED)
    assert found(rule) == {str(course)}
    assert "已退回" in Finding.objects.get(rule=rule, resolved_at__isnull=True).message


def test_a_plan_item_with_fewer_teachers_than_planned_is_a_finding(world):
    course = paid_course(world.school_a, fee="0")
    item = PlanItem.objects.create(plan=course.plan, name="艺术社团", teachers=2)
    Offering.objects.filter(pk=course.pk).update(plan_item=item)
    rule = "afterschool.plan_item.understaffed"
    assert found(rule) == {"艺术社团"}
    PlanItem.objects.filter(pk=item.pk).update(teachers=1)
    assert found(rule) == set()
    assert Lesson.objects.exists()
