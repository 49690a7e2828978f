"""After-school rules at their boundary (issue 12, item 9).

- Signup closes at the instant the course's first lesson starts: open one microsecond
  before, closed at the start itself (``why_not``: ``now >= first_start``). A parent's own
  withdrawal of a place ends at the same instant.
- Every withdrawal (a parent's, of a place or of a waiting place; the school's, with a
  reason) writes its audit row in the withdrawal's transaction: no audit row, no
  withdrawal."""

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from afterschool import enrolment as svc
from afterschool.models import Enrolment, Lesson
from portal.models import AuditLog
from tests.afterschool.helpers import family, offering

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(2026, 11, 23)  # a Monday of the helpers' autumn term
ONE_MICROSECOND = dt.timedelta(microseconds=1)
WITHDRAWN = "afterschool.enrolment.withdrawn"


def course_with_lessons(school, **kwargs):
    """A published course whose first lesson is FIRST_DAY 15:30 (a cancelled one earlier,
    which does not count), the next a week later."""
    course = offering(school, **kwargs)
    for day, status in [
        (FIRST_DAY - dt.timedelta(weeks=1), Lesson.Status.CANCELLED),
        (FIRST_DAY, Lesson.Status.SCHEDULED),
        (FIRST_DAY + dt.timedelta(weeks=1), Lesson.Status.SCHEDULED),
    ]:
        Lesson.objects.create(
            offering=course, planned_date=day, date=day, start=course.start, end=course.end,
            room=course.room, status=status,
        )  # fmt: skip
    return course


def first_start(course) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(FIRST_DAY, course.start))


def audit_rows(enrolment):
    return AuditLog.objects.filter(action=WITHDRAWN, object_id=str(enrolment.pk))


# --- signup closes when the first lesson starts --------------------------------------------


@pytest.mark.parametrize("offset, open_", [(-ONE_MICROSECOND, True), (dt.timedelta(0), False)])
def test_signup_is_open_until_the_instant_the_first_lesson_starts(world, offset, open_):
    course = course_with_lessons(world.school_a)
    now = first_start(course) + offset
    child = world.child_a
    if open_:
        assert svc.why_not(child, course, now=now) is None
        e = svc.enrol(user=world.parent_a, child_id=child.pk, offering_id=course.pk, now=now)
        assert e.status == Enrolment.Status.ENROLLED
    else:
        assert "开课，报名已截止" in svc.why_not(child, course, now=now)
        with pytest.raises(ValidationError, match="2026-11-23 15:30 开课，报名已截止"):
            svc.enrol(user=world.parent_a, child_id=child.pk, offering_id=course.pk, now=now)
        assert not Enrolment.objects.filter(offering=course).exists()


@pytest.mark.parametrize("offset, open_", [(-ONE_MICROSECOND, True), (dt.timedelta(0), False)])
def test_the_menu_judges_the_same_instant(world, offset, open_):
    # the menu passes the first start it read for all courses at once
    course = course_with_lessons(world.school_a)
    starts = svc.first_starts([course.pk])
    assert starts == {course.pk: first_start(course)}
    now = first_start(course) + offset
    problem = svc.why_not(
        world.child_a, course, now=now, first_start=starts[course.pk], enrolled=[]
    )
    assert (problem is None) is open_


@pytest.mark.parametrize("offset, open_", [(-ONE_MICROSECOND, True), (dt.timedelta(0), False)])
def test_a_parent_withdraws_a_place_until_the_same_instant(world, offset, open_):
    course = course_with_lessons(world.school_a)
    early = first_start(course) - dt.timedelta(days=1)
    e = svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early)
    now = first_start(course) + offset
    assert svc.started(course.pk, now) is not open_
    if open_:
        svc.withdraw(user=world.parent_a, enrolment_id=e.pk, now=now)
        assert Enrolment.objects.get(pk=e.pk).status == Enrolment.Status.WITHDRAWN
    else:
        with pytest.raises(ValidationError, match="课程已开课"):
            svc.withdraw(user=world.parent_a, enrolment_id=e.pk, now=now)
        assert Enrolment.objects.get(pk=e.pk).status == Enrolment.Status.ENROLLED
        assert not audit_rows(e).exists()


# --- every withdrawal is audited -----------------------------------------------------------


def test_a_parents_withdrawal_of_a_place_is_audited(world):
    course = offering(world.school_a)
    e = svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    svc.withdraw(user=world.parent_a, enrolment_id=e.pk)
    row = audit_rows(e).get()
    assert row.actor == world.parent_a
    assert row.old == {"status": "enrolled"}
    assert row.object_repr == str(Enrolment.objects.get(pk=e.pk))
    # withdrawing again changes nothing and records nothing
    svc.withdraw(user=world.parent_a, enrolment_id=e.pk)
    assert audit_rows(e).count() == 1


def test_leaving_the_waiting_list_is_audited_too(world):
    course = offering(world.school_a, capacity=1)
    (u1, c1), (u2, c2) = family(world.class_a, 2)
    svc.enrol(user=u1, child_id=c1.pk, offering_id=course.pk)
    waiting = svc.enrol(user=u2, child_id=c2.pk, offering_id=course.pk)
    assert waiting.status == Enrolment.Status.WAITING
    svc.withdraw(user=u2, enrolment_id=waiting.pk)
    row = audit_rows(waiting).get()
    assert row.actor == u2 and row.old == {"status": "waiting"}


def test_the_schools_withdrawal_is_audited_with_its_reason(world):
    course = course_with_lessons(world.school_a)
    early = first_start(course) - dt.timedelta(days=1)
    e = svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early)
    with pytest.raises(ValidationError):
        svc.withdraw_by_staff(user=world.principal_a, enrolment_id=e.pk, reason="  ")
    assert not audit_rows(e).exists()
    svc.withdraw_by_staff(user=world.principal_a, enrolment_id=e.pk, reason="转学")
    row = audit_rows(e).get()
    assert row.actor == world.principal_a
    assert row.old == {"status": "enrolled"} and row.new == {"reason": "转学"}


@pytest.mark.django_db(transaction=True)
def test_the_withdrawal_page_commits_the_change_with_its_audit_row(world, client_for):
    # outside the test transaction, as production runs a request (no ATOMIC_REQUESTS)
    course = offering(world.school_a)
    e = svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    r = client_for(world.parent_a).post(reverse("afterschool:withdraw", args=[e.pk]))
    assert r.status_code == 302
    assert Enrolment.objects.get(pk=e.pk).status == Enrolment.Status.WITHDRAWN
    assert audit_rows(e).get().actor == world.parent_a


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_whose_audit_row_fails_is_rolled_back(world):
    # the audit row is written in the withdrawal's own transaction: when it cannot be
    # written, the child keeps the place (nobody waits, so the withdrawal's own row is the
    # only one this module would write)
    course = offering(world.school_a)
    e = svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    with mock.patch.object(svc, "audit_record", side_effect=RuntimeError("audit down")):
        with pytest.raises(RuntimeError, match="audit down"):
            svc.withdraw(user=world.parent_a, enrolment_id=e.pk)
    assert Enrolment.objects.get(pk=e.pk).status == Enrolment.Status.ENROLLED
    assert not audit_rows(e).exists()
