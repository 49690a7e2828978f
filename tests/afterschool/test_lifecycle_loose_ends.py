"""Issue 13, item 4: a second enrolment says "已报名" and changes nothing; withdrawing
withdraws the child's pending leave requests; ratings are one per child and course; a
promotion from the waiting list bills from the first lesson that has not started."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from afterschool import enrolment, lessons, operations
from afterschool.models import Bill, Enrolment, LeaveRequest, Rating
from portal.models import AuditLog
from tests.afterschool.fees_helpers import balanced_ledger, early, paid_course, today  # noqa: F401
from tests.afterschool.helpers import family

pytestmark = [pytest.mark.usefixtures("balanced_ledger")]


@pytest.mark.django_db(transaction=True)
def test_a_second_enrolment_says_already_enrolled_and_changes_nothing(world, client_for):
    course = paid_course(world.school_a, weeks=(1, 2))
    c = client_for(world.parent_a)
    data = {"child": world.child_a.pk, "offering": course.pk}
    c.post(reverse("afterschool:enrol"), data)
    before = (Enrolment.objects.count(), Bill.objects.count(), AuditLog.objects.count())
    r = c.post(reverse("afterschool:enrol"), data, follow=True)
    assert "甲同学已报名“创意美术”，无需重复报名。" in r.content.decode()
    assert (Enrolment.objects.count(), Bill.objects.count(), AuditLog.objects.count()) == before


@pytest.mark.django_db
def test_a_second_enrolment_on_the_waiting_list_says_so_too(world):
    course = paid_course(world.school_a, capacity=1)
    (p2, c2), = family(world.class_a, 1, prefix="wl")  # fmt: skip
    enrolment.enrol(user=p2, child_id=c2.pk, offering_id=course.pk, now=early(course))
    enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                    now=early(course))  # fmt: skip
    with pytest.raises(enrolment.AlreadyEnrolled, match="已报名“创意美术”，在候补名单第 1 位"):
        enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_withdrawing_withdraws_the_pending_leave_requests(world, client_for):
    course = paid_course(world.school_a, fee="0", weeks=(1, 2))
    e = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    first, second = course.lessons.order_by("date")
    pending = operations.leave_request(user=world.parent_a, lesson_id=first.pk,
                                       child_id=world.child_a.pk, reason="看病")  # fmt: skip
    decided = operations.leave_request(user=world.parent_a, lesson_id=second.pk,
                                       child_id=world.child_a.pk, reason="外出")  # fmt: skip
    operations.leave_decide(user=world.teacher_a, leave_id=decided.pk, approve=False)
    client_for(world.parent_a).post(reverse("afterschool:withdraw", args=[e.pk]))
    assert Enrolment.objects.get(pk=e.pk).status == "withdrawn"
    assert LeaveRequest.objects.get(pk=pending.pk).status == "withdrawn"
    assert LeaveRequest.objects.get(pk=decided.pk).status == "rejected"  # decided: kept
    assert AuditLog.objects.filter(action="afterschool.leave.withdrawn",
                                   object_id=str(pending.pk)).count() == 1  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_parent_with_two_children_rates_twice_once_each(world, client_for):
    from tests.factories import ChildFactory

    twin = ChildFactory(school_class=world.class_a, name="甲同学二")
    twin.parents.add(world.parent_a.parent)
    course = paid_course(world.school_a, fee="0", weeks=(-3, -2))
    for child in (world.child_a, twin):
        enrolment.enrol(user=world.parent_a, child_id=child.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip
    c = client_for(world.parent_a)
    url = reverse("afterschool:rate", args=[course.pk])
    page = c.get(url).content.decode()
    assert "为哪个孩子评价" in page and "甲同学二" in page
    r = c.post(url, {"stars": "5"})  # two children left: which one?
    assert "请选择为哪个孩子评价" in r.content.decode()
    c.post(url, {"stars": "5", "child": world.child_a.pk})
    page = c.get(url).content.decode()
    assert "已为甲同学评价：5 星" in page and f'value="{twin.pk}"' in page
    c.post(url, {"stars": "3", "child": twin.pk})
    assert sorted(Rating.objects.values_list("child__name", "stars")) == [
        ("甲同学", 5),
        ("甲同学二", 3),
    ]
    with pytest.raises(ValidationError, match="您已评价过这门课程（甲同学二）"):
        lessons.rating_give(user=world.parent_a, offering_id=course.pk, stars=4,
                            child_id=twin.pk)  # fmt: skip
    # another family's child cannot be named
    (_p, stranger), = family(world.class_a, 1, prefix="rs")  # fmt: skip
    with pytest.raises(ValidationError, match="请选择上过这门课程的孩子"):
        lessons.rating_give(user=world.parent_a, offering_id=course.pk, stars=4,
                            child_id=stranger.pk)  # fmt: skip
    assert Rating.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "offset, lessons_billed",
    [
        (-dt.timedelta(microseconds=1), 3),  # before today's lesson starts: from today
        (dt.timedelta(0), 2),  # at its start exactly: from next week's
        (dt.timedelta(hours=4), 2),  # in the evening: from next week's
    ],
)
def test_a_promotion_bills_from_the_first_lesson_not_started(world, offset, lessons_billed):
    course = paid_course(world.school_a, capacity=1)
    (p2, c2), = family(world.class_a, 1, prefix="pr")  # fmt: skip
    first = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk,
                            offering_id=course.pk, now=early(course))  # fmt: skip
    waiting = enrolment.enrol(user=p2, child_id=c2.pk, offering_id=course.pk, now=early(course))
    today_lesson = course.lessons.get(date=today())
    starts = early(course) + dt.timedelta(hours=1)
    assert starts.time() == today_lesson.start
    enrolment.withdraw_by_staff(user=world.principal_a, enrolment_id=first.pk, reason="转学",
                                now=starts + offset)  # fmt: skip
    assert Enrolment.objects.get(pk=waiting.pk).status == "enrolled"
    bill = Bill.objects.get(enrolment=waiting)
    assert (bill.lessons, bill.amount) == (lessons_billed, 20 * lessons_billed)
    expected_from = today() if lessons_billed == 3 else today() + dt.timedelta(weeks=1)
    assert bill.lessons_from == expected_from
