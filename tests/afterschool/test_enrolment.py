import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from afterschool import enrolment as svc
from afterschool import operations
from afterschool.models import Enrolment, Lesson, Offering, SchoolPlan
from portal.models import AuditLog
from tests.afterschool.helpers import family, live_plan, offering

pytestmark = pytest.mark.django_db


def test_a_parent_enrols_their_own_child(world):
    course = offering(world.school_a)
    e = svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    assert e.status == Enrolment.Status.ENROLLED
    assert AuditLog.objects.filter(action="afterschool.enrolment.enrolled").exists()
    # issue 13: a second click says "已报名" and changes nothing
    with pytest.raises(svc.AlreadyEnrolled, match="已报名“趣味编程”") as refused:
        svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    assert refused.value.enrolment.pk == e.pk
    assert Enrolment.objects.filter(child=world.child_a).count() == 1


def test_nobody_enrols_someone_elses_child(world):
    course = offering(world.school_b)
    with pytest.raises(PermissionDenied):
        svc.enrol(user=world.parent_a, child_id=world.child_b.pk, offering_id=course.pk)
    with pytest.raises(PermissionDenied):
        svc.enrol(user=world.principal_a, child_id=world.child_a.pk, offering_id=course.pk)


def test_the_grade_the_school_and_the_timetable_are_checked(world):
    grade5 = offering(world.school_a, grades=(5, 6), name="篮球")
    with pytest.raises(ValidationError, match="面向5年级、6年级，甲同学在3年级"):
        svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=grade5.pk)
    other_school = offering(world.school_b, name="乙校合唱")
    with pytest.raises(ValidationError, match="孩子所在学校"):
        svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=other_school.pk)
    plan = SchoolPlan.objects.get(school=world.school_a)
    first = offering(world.school_a, name="书法", plan=plan)
    clash = offering(world.school_a, name="围棋", plan=plan, start=dt.time(16), end=dt.time(17))
    # issue 13: a clash is judged on the real lessons, not the weekly pattern
    monday = dt.date(2027, 1, 18)
    for course in (first, clash):
        Lesson.objects.create(offering=course, planned_date=monday, date=monday,
                              start=course.start, end=course.end)  # fmt: skip
    svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=first.pk)
    with pytest.raises(ValidationError, match="与已报名的“书法"):
        svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=clash.pk)
    closed = offering(
        world.school_a, name="已停", plan=plan, weekday=3, status=Offering.Status.DRAFT
    )
    with pytest.raises(ValidationError, match="不开放报名"):
        svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=closed.pk)


def test_a_full_course_puts_children_on_a_waiting_list_that_moves_up_in_order(world):
    course = offering(world.school_a, capacity=2)
    people = family(world.class_a, 4)
    results = [svc.enrol(user=u, child_id=c.pk, offering_id=course.pk) for u, c in people]
    assert [e.status for e in results] == ["enrolled", "enrolled", "waiting", "waiting"]
    assert [svc.waiting_position(e) for e in results[2:]] == [1, 2]
    svc.withdraw(user=people[0][0], enrolment_id=results[0].pk)
    results = [Enrolment.objects.get(pk=e.pk) for e in results]
    assert [e.status for e in results] == ["withdrawn", "enrolled", "enrolled", "waiting"]
    assert svc.waiting_position(results[3]) == 1
    # withdrawing from the waiting list promotes nobody and keeps the order
    svc.withdraw(user=people[3][0], enrolment_id=results[3].pk)
    enrolled = Enrolment.objects.filter(offering=course, status="enrolled").count()
    assert enrolled == 2


def test_a_parent_can_only_withdraw_their_own_child(world):
    course = offering(world.school_a)
    (u1, c1), (u2, _c2) = family(world.class_a, 2)
    e = svc.enrol(user=u1, child_id=c1.pk, offering_id=course.pk)
    with pytest.raises(PermissionDenied):
        svc.withdraw(user=u2, enrolment_id=e.pk)


def test_publishing_needs_an_approved_plan_and_a_planned_day(world):
    draft_plan = live_plan(world.school_a, status=SchoolPlan.Status.SUBMITTED)
    course = offering(world.school_a, plan=draft_plan, status=Offering.Status.DRAFT)
    with pytest.raises(ValidationError, match="尚未实施"):
        operations.offering_publish(user=world.principal_a, offering_id=course.pk)
    draft_plan.status = SchoolPlan.Status.APPROVED
    draft_plan.save()
    with pytest.raises(ValidationError, match="已批准，尚未实施"):  # issue 13: in effect only
        operations.offering_publish(user=world.principal_a, offering_id=course.pk)
    draft_plan.status = SchoolPlan.Status.IN_EFFECT
    draft_plan.save()
    saturday = offering(world.school_a, plan=draft_plan, weekday=5, status="draft")
    with pytest.raises(ValidationError, match="没有安排周六"):
        operations.offering_publish(user=world.principal_a, offering_id=saturday.pk)
    operations.offering_publish(user=world.principal_a, offering_id=course.pk)
    assert Offering.objects.get(pk=course.pk).status == "published"
    with pytest.raises(Offering.DoesNotExist):  # another school's course
        operations.offering_publish(user=world.principal_b, offering_id=course.pk)
