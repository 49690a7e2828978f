"""Issue 13, item 1: a course cancelled by the principal or 教导处 — lessons not yet started
cancelled, waiting places closed, enrolments ended, every bill's untaken lessons given back
through the fee ledger (a paid bill refunded, an unpaid one reduced or cancelled, nothing
twice), each parent told once; and the automatic finish the night after the last lesson.
Every test ends with the fee ledger balanced (``balanced_ledger``)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from afterschool import course_life, enrolment, fees, lessons
from afterschool.models import Bill, Enrolment, FeeEntry, LeaveRequest, Lesson, Offering
from afterschool.tasks import offerings_finish
from portal import ledger
from portal.models import AuditLog, Notice, SchoolStaff
from tests.afterschool.fees_helpers import balanced_ledger, during, early, paid_course, today  # noqa: F401
from tests.afterschool.helpers import family
from tests.afterschool.test_fees import pay
from tests.factories import SchoolStaffFactory

pytestmark = [pytest.mark.usefixtures("balanced_ledger")]


def refunded(bill) -> Decimal:
    return ledger.balance(FeeEntry, bill.account, transaction__kind="refund")


def two_families(world, course, waiting=False):
    """child_a (paid) and a second child (unpaid) hold the course's two places; a third
    waits when ``waiting``."""
    (p2, c2), (p3, c3) = family(world.class_a, 2, prefix="cx")
    now = early(course)
    e1 = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                         now=now)  # fmt: skip
    e2 = enrolment.enrol(user=p2, child_id=c2.pk, offering_id=course.pk, now=now)
    e3 = (
        enrolment.enrol(user=p3, child_id=c3.pk, offering_id=course.pk, now=now)
        if waiting
        else None
    )
    pay(Bill.objects.get(enrolment=e1))
    return e1, e2, e3, p2, p3


# --- the service ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_before_the_first_lesson_gives_everything_back_once(
    world, django_capture_on_commit_callbacks
):
    course = paid_course(world.school_a)
    e1, e2, e3, p2, p3 = two_families(world, course, waiting=True)
    paid, unpaid = Bill.objects.get(enrolment=e1), Bill.objects.get(enrolment=e2)
    assert (paid.status, paid.amount, unpaid.amount) == ("paid", 60, 60)
    with django_capture_on_commit_callbacks(execute=True):
        course_life.offering_cancel(user=world.principal_a, offering_id=course.pk,
                                    reason="授课教师离职", now=early(course))  # fmt: skip
    course.refresh_from_db()
    assert (course.status, course.cancel_reason) == ("cancelled", "授课教师离职")
    assert set(course.lessons.values_list("status", flat=True)) == {"cancelled"}
    assert set(Enrolment.objects.filter(offering=course).values_list("status", flat=True)) == {
        "withdrawn"
    }
    paid.refresh_from_db()
    assert paid.status == "paid" and refunded(paid) == 60 and fees.held(paid) == 0
    # the unpaid bill is cancelled, nothing reissued (no lesson was taken)
    assert list(Bill.objects.filter(enrolment=e2).values_list("status", flat=True)) == ["cancelled"]
    assert not Bill.objects.filter(enrolment=e3).exists()  # the waiting place never billed
    # each parent told once, saying what happened to the fees
    for user, words in ((world.parent_a, "退还 60.00 元"), (p2, "未缴账单已作废"),
                        (p3, "候补名额已取消")):  # fmt: skip
        notes = Notice.objects.filter(user=user, key=f"offering:{course.pk}:cancelled")
        assert notes.count() == 1 and words in notes.get().message
    row = AuditLog.objects.get(action="afterschool.offering.cancelled")
    assert row.new["reason"] == "授课教师离职" and len(row.new["enrolments_ended"]) == 3
    # again: nothing twice (no refund, no notice, no audit row)
    with django_capture_on_commit_callbacks(execute=True):
        course_life.offering_cancel(user=world.principal_a, offering_id=course.pk,
                                    reason="再次", now=early(course))  # fmt: skip
    assert refunded(paid) == 60
    assert AuditLog.objects.filter(action="afterschool.offering.cancelled").count() == 1
    assert Notice.objects.filter(key=f"offering:{course.pk}:cancelled").count() == 3
    # a later run of the school's refunds finds nothing more due on it
    assert fees.bill_refund_due(actor=world.principal_a, bill_id=paid.pk) == 0
    # the parent's bills page shows the refund beside the paid bill
    from django.test import Client
    from django.urls import reverse

    page = Client()
    page.force_login(world.parent_a)
    html = page.get(reverse("afterschool:bills")).content.decode()
    assert f'data-testid="refunded-{paid.pk}">已退费 60.00 元' in html


@pytest.mark.django_db
def test_cancel_during_the_course_keeps_the_lessons_taken(world):
    course = paid_course(world.school_a)
    e1, e2, _e3, _p2, _p3 = two_families(world, course)
    first = course.lessons.order_by("date").first()
    lessons.roll_submit(user=world.teacher_a, lesson_id=first.pk, now=during(first),
                        marks={e1.child_id: "present", e2.child_id: "present"})  # fmt: skip
    course_life.offering_cancel(user=world.principal_a, offering_id=course.pk,
                                reason="场地维修", now=during(first))  # fmt: skip
    statuses = list(course.lessons.order_by("date").values_list("status", flat=True))
    assert statuses == ["held", "cancelled", "cancelled"]
    paid = Bill.objects.get(enrolment=e1)
    assert refunded(paid) == 40 and fees.held(paid) == 20  # two of three lessons back
    bills = Bill.objects.filter(enrolment=e2).order_by("pk")
    assert [(b.status, b.lessons, b.amount) for b in bills] == [
        ("cancelled", 3, 60),
        ("open", 1, 20),  # reduced to the lesson taken
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("offset, lessons_left", [(-dt.timedelta(microseconds=1), 0),
                                                  (dt.timedelta(0), 1)])  # fmt: skip
def test_a_lesson_starting_at_the_cancel_instant_is_not_future(world, offset, lessons_left):
    # boundary: the first lesson's start exactly. A microsecond before it is cancelled; at
    # its start it has begun and stays; the child, off the roll, gets its fee back anyway
    course = paid_course(world.school_a)
    e1, e2, _e3, _p2, _p3 = two_families(world, course)
    first = course.lessons.order_by("date").first()
    now = during(first) - dt.timedelta(minutes=1) + offset
    course_life.offering_cancel(user=world.principal_a, offering_id=course.pk, reason="停课",
                                now=now)  # fmt: skip
    assert course.lessons.filter(status="scheduled").count() == lessons_left
    assert refunded(Bill.objects.get(enrolment=e1)) == 60
    assert not Bill.objects.filter(enrolment=e2).exclude(status="cancelled").exists()


@pytest.mark.django_db
def test_cancel_withdraws_pending_leave_and_refuses_those_who_may_not(world):
    course = paid_course(world.school_a, fee="0")
    e = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip
    from afterschool import operations

    later = course.lessons.order_by("date").last()
    leave = operations.leave_request(user=world.parent_a, lesson_id=later.pk,
                                     child_id=world.child_a.pk, reason="看病",
                                     now=early(course))  # fmt: skip
    for user in (world.teacher_a, world.parent_a, world.principal_b):
        with pytest.raises(PermissionDenied):
            course_life.offering_cancel(user=user, offering_id=course.pk, reason="x")
    with pytest.raises(ValidationError, match="取消课程必须说明原因"):
        course_life.offering_cancel(user=world.principal_a, offering_id=course.pk, reason=" ")
    assert Offering.objects.get(pk=course.pk).status == "published"
    academic = SchoolStaffFactory(school=world.school_a, role=SchoolStaff.Role.ACADEMIC).user
    course_life.offering_cancel(user=academic, offering_id=course.pk, reason="教师离职",
                                now=early(course))  # fmt: skip
    assert LeaveRequest.objects.get(pk=leave.pk).status == "withdrawn"
    assert Enrolment.objects.get(pk=e.pk).status == "withdrawn"


@pytest.mark.django_db
def test_a_finished_course_cannot_be_cancelled(world):
    course = paid_course(world.school_a, weeks=(-2, -1))
    Offering.objects.filter(pk=course.pk).update(status="finished")
    with pytest.raises(ValidationError, match="已结课，不能再取消"):
        course_life.offering_cancel(user=world.principal_a, offering_id=course.pk, reason="x")


# --- through the pages -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_principal_cancels_on_the_course_page_and_parents_see_it(world, client_for):
    course = paid_course(world.school_a, weeks=(1, 2))  # lessons a week on: clock-proof
    (p2, c2), = family(world.class_a, 1, prefix="pg")  # fmt: skip
    c = client_for(world.parent_a)
    c.post(reverse("afterschool:enrol"), {"child": world.child_a.pk, "offering": course.pk})
    paid = Bill.objects.get(child=world.child_a)
    pay(paid)
    client_for(p2).post(reverse("afterschool:enrol"), {"child": c2.pk, "offering": course.pk})
    url = reverse("afterschool:offering_detail", args=[course.pk])
    page = client_for(world.principal_a).get(url).content.decode()
    assert "取消课程" in page
    # refused: no reason (the form again), a teacher (403), another school (404), a parent
    r = client_for(world.principal_a).post(url, {"action": "cancel", "reason": ""})
    assert "取消课程必须说明原因" in r.content.decode()
    assert (
        client_for(world.teacher_a).post(url, {"action": "cancel", "reason": "x"}).status_code
        == 403
    )
    assert (
        client_for(world.principal_b).post(url, {"action": "cancel", "reason": "x"}).status_code
        == 404
    )
    assert (
        client_for(world.parent_a).post(url, {"action": "cancel", "reason": "x"}).status_code == 403
    )
    assert Offering.objects.get(pk=course.pk).status == "published"
    r = client_for(world.principal_a).post(url, {"action": "cancel", "reason": "教师离职"},
                                           follow=True)  # fmt: skip
    assert "课程已取消" in r.content.decode()
    assert refunded(paid) == 40
    # each parent: the notice, the course gone from the menu (kept in the history)
    for user, words in ((world.parent_a, "退还 40.00 元"), (p2, "未缴账单已作废")):
        html = client_for(user).get(reverse("inbox")).content.decode()
        assert "“创意美术”已取消" in html and words in html
        menu = client_for(user).get(reverse("afterschool:menu")).content.decode()
        assert f'name="offering" value="{course.pk}"' not in menu
        assert "课程已取消" in menu
    bills = client_for(p2).get(reverse("afterschool:bills")).content.decode()
    assert "已作废" in bills


# --- finish ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_night_after_the_last_lesson_the_course_finishes(
    world, django_capture_on_commit_callbacks
):
    course = paid_course(world.school_a, fee="0", capacity=1)
    (p2, c2), = family(world.class_a, 1, prefix="fn")  # fmt: skip
    e = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip
    waiting = enrolment.enrol(user=p2, child_id=c2.pk, offering_id=course.pk, now=early(course))
    last = course.lessons.order_by("date").last().date
    # the last lesson's own day: not yet; the next day: finished, once
    assert offerings_finish(today=last.isoformat()) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert offerings_finish(today=(last + dt.timedelta(days=1)).isoformat()) == 1
    assert offerings_finish(today=(last + dt.timedelta(days=2)).isoformat()) == 0
    course.refresh_from_db()
    assert course.status == "finished"
    assert Enrolment.objects.get(pk=e.pk).status == "completed"
    assert Enrolment.objects.get(pk=waiting.pk).status == "withdrawn"
    assert AuditLog.objects.filter(action="afterschool.offering.finished").count() == 1
    assert Notice.objects.filter(user=world.parent_a, key=f"offering:{course.pk}:finished").exists()
    # ratings open for the completed place
    rating = lessons.rating_give(user=world.parent_a, offering_id=course.pk, stars=5,
                                 today=last + dt.timedelta(days=1))  # fmt: skip
    assert rating.child == world.child_a
    with pytest.raises(ValidationError, match="结课"):
        enrolment.withdraw(user=world.parent_a, enrolment_id=e.pk)


@pytest.mark.django_db
def test_a_course_whose_last_lessons_were_cancelled_finishes_after_the_last_one_held(world):
    course = paid_course(world.school_a, fee="0")
    dates = list(course.lessons.order_by("date").values_list("date", flat=True))
    Lesson.objects.filter(offering=course, date=dates[-1]).update(status="cancelled")
    assert offerings_finish(today=dates[-1].isoformat()) == 1
