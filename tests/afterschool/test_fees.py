import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from afterschool import enrolment, fees
from afterschool.models import Bill, Enrolment, FeeRule, FeeTransaction, Lesson, Waiver
from portal.models import AuditLog, SchoolPeriod
from tests.afterschool.fees_helpers import balanced_ledger, during, early, paid_course, today  # noqa: F401
from tests.afterschool.helpers import family

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("balanced_ledger")]


def enrol(world, course):
    return enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )


def test_taking_a_place_bills_the_lessons_from_today_to_the_end_of_the_period(world):
    course = paid_course(world.school_a)
    e = enrol(world, course)
    bill = Bill.objects.get(enrolment=e)
    # today and the two lessons after it; the two before today are not charged
    assert (bill.lessons, bill.gross, bill.amount, bill.status) == (3, 60, 60, Bill.Status.OPEN)
    assert bill.lessons_from == today()
    assert bill.due_on == today() + dt.timedelta(days=10)
    assert AuditLog.objects.filter(action="afterschool.bill.issued").count() == 1


def test_a_waiting_place_is_never_billed_and_a_move_up_is(world):
    course = paid_course(world.school_a, capacity=1)
    (p1, c1), (p2, c2) = family(world.class_a, 2)
    first = enrolment.enrol(user=p1, child_id=c1.pk, offering_id=course.pk, now=early(course))
    waiting = enrolment.enrol(user=p2, child_id=c2.pk, offering_id=course.pk, now=early(course))
    assert waiting.status == Enrolment.Status.WAITING
    assert not Bill.objects.filter(enrolment=waiting).exists()
    enrolment.withdraw(user=p1, enrolment_id=first.pk, now=early(course))
    assert Bill.objects.get(enrolment=waiting).status == Bill.Status.OPEN


def test_monthly_periods_never_cross_the_terms_end():
    term = SchoolPeriod(start=dt.date(2026, 9, 1), end=dt.date(2027, 1, 22))
    got = fees.periods(term, FeeRule(period=FeeRule.Period.MONTH))
    assert got[0] == (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert got[3] == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert got[-1] == (dt.date(2027, 1, 1), dt.date(2027, 1, 22))
    assert len(got) == 5
    assert fees.periods(term, FeeRule(period=FeeRule.Period.TERM)) == [(term.start, term.end)]


def test_issuing_a_period_twice_issues_nothing_twice(world):
    course = paid_course(world.school_a)
    (p1, c1), (p2, c2) = family(world.class_a, 2)
    for p, c in ((p1, c1), (p2, c2)):
        enrolment.enrol(user=p, child_id=c.pk, offering_id=course.pk, now=early(course))
    Bill.objects.all().delete()  # as if the places were taken before billing began
    start = course.plan.term.start
    assert fees.bills_issue(actor=world.principal_a, period_start=start) == 2
    assert fees.bills_issue(actor=world.principal_a, period_start=start) == 0
    assert Bill.objects.get(child=c1).lessons == 3  # the whole term from its first day
    with pytest.raises(PermissionDenied):
        fees.bills_issue(actor=world.teacher_a, period_start=start)


@pytest.mark.parametrize("percent,amount,status", [(100, 0, "waived"), (50, 30, "open")])
def test_a_waiver_reissues_the_open_bill(world, percent, amount, status):
    course = paid_course(world.school_a)
    enrol(world, course)
    fees.waiver_set(
        actor=world.principal_a,
        child_id=world.child_a.pk,
        term_id=course.plan.term_id,
        percent=percent,
        reason="低保家庭",
    )
    live = Bill.objects.exclude(status=Bill.Status.CANCELLED).get(child=world.child_a)
    assert (live.amount, live.waived, live.status) == (amount, 60 - amount, status)
    assert Bill.objects.filter(status=Bill.Status.CANCELLED).count() == 1
    assert AuditLog.objects.filter(action="afterschool.waiver.set").exists()


def test_a_waiver_needs_a_reason_and_a_pupil_of_the_school(world):
    course = paid_course(world.school_a)
    with pytest.raises(ValidationError) as exc:
        fees.waiver_set(
            actor=world.principal_a,
            child_id=world.child_b.pk,
            term_id=course.plan.term_id,
            percent=101,
            reason=" ",
        )
    assert set(exc.value.message_dict) == {"child", "percent", "reason"}
    assert not Waiver.objects.exists()
    with pytest.raises(PermissionDenied):
        fees.waiver_set(
            actor=world.teacher_a,
            child_id=world.child_a.pk,
            term_id=course.plan.term_id,
            percent=100,
            reason="x",
        )


def pay(bill):
    """The family pays the whole bill through the sandbox gateway."""
    from afterschool import payments

    payment = payments.payment_start(
        user=bill.child.parents.first().user, bill_id=bill.pk, provider="sandbox"
    )
    body, sig = payments.PROVIDERS["sandbox"].notification(payment)
    payments.notify("sandbox", body, sig)
    bill.refresh_from_db()
    return payment


def roll(world, lesson, mark):
    from afterschool import lessons

    return lessons.roll_submit(
        user=world.teacher_a,
        lesson_id=lesson.pk,
        marks={world.child_a.pk: mark},
        now=during(lesson),
    )


@pytest.mark.parametrize(
    "rule,mark,refund",
    [
        (FeeRule.Refund.NOT_HELD, "leave", "20.00"),  # only the cancelled lesson
        (FeeRule.Refund.LEAVE, "leave", "40.00"),  # the cancelled one and the leave
        (FeeRule.Refund.LEAVE, "absent", "20.00"),
        (FeeRule.Refund.ABSENT, "absent", "40.00"),
    ],
)
def test_refunds_follow_the_schools_rule(world, rule, mark, refund):
    course = paid_course(world.school_a)
    FeeRule.objects.filter(school=world.school_a).update(refund=rule)
    bill = Bill.objects.get(enrolment=enrol(world, course))
    pay(bill)
    assert bill.status == Bill.Status.PAID and fees.held(bill) == 60
    roll(world, Lesson.objects.get(offering=course, date=today()), mark)
    future = Lesson.objects.filter(offering=course, date__gt=today()).first()
    from afterschool import lessons

    lessons.lesson_cancel(user=world.principal_a, lesson_id=future.pk, reason="暴雨停课")
    n, total = fees.refunds_run(actor=world.principal_a)
    assert (n, total) == (1, Decimal(refund))
    assert fees.refunds_run(actor=world.principal_a) == (0, 0)  # nothing twice
    assert fees.held(bill) == 60 - Decimal(refund)


def test_withdrawing_refunds_the_paid_lessons_from_today(world):
    course = paid_course(world.school_a)
    e = enrol(world, course)
    bill = Bill.objects.get(enrolment=e)
    pay(bill)
    enrolment.withdraw(user=world.parent_a, enrolment_id=e.pk, now=early(course))
    assert fees.held(bill) == 0  # before the first lesson: all three back


def test_after_the_first_lesson_only_the_school_withdraws_and_the_rule_refunds(world):
    course = paid_course(world.school_a)
    e = enrol(world, course)
    bill = Bill.objects.get(enrolment=e)
    pay(bill)
    today_lesson = course.lessons.get(date=today())
    with pytest.raises(ValidationError, match="联系学校"):
        enrolment.withdraw(user=world.parent_a, enrolment_id=e.pk, now=during(today_lesson))
    with pytest.raises(PermissionDenied):
        enrolment.withdraw_by_staff(user=world.teacher_a, enrolment_id=e.pk, reason="转学")
    with pytest.raises(ValidationError):
        enrolment.withdraw_by_staff(user=world.principal_a, enrolment_id=e.pk, reason="")
    roll(world, today_lesson, "present")
    enrolment.withdraw_by_staff(user=world.principal_a, enrolment_id=e.pk, reason="转学")
    assert fees.held(bill) == 20  # the lesson taken today stays paid; the two after go back


def test_withdrawing_reissues_an_open_bill_for_the_lessons_already_held(world):
    course = paid_course(world.school_a, weeks=(-2, -1, 0, 1, 2))
    e = enrol(world, course)
    Bill.objects.all().delete()
    fees.bills_issue(actor=world.principal_a, period_start=course.plan.term.start)
    enrolment.withdraw_by_staff(user=world.principal_a, enrolment_id=e.pk, reason="转学")
    live = Bill.objects.exclude(status=Bill.Status.CANCELLED).get(enrolment=e)
    assert live.lessons == 2 and live.amount == 40  # the two lessons before today


def test_a_cancelled_paid_bill_is_refunded_in_full(world):
    course = paid_course(world.school_a)
    bill = Bill.objects.get(enrolment=enrol(world, course))
    pay(bill)
    with pytest.raises(ValidationError):
        fees.bill_cancel(actor=world.principal_a, bill_id=bill.pk, reason="")
    fees.bill_cancel(actor=world.principal_a, bill_id=bill.pk, reason="课程停开")
    assert fees.held(bill) == 0
    assert FeeTransaction.objects.filter(bill=bill, kind="refund").count() == 1


def test_a_refund_can_never_pay_out_more_than_came_in(world):
    from portal.ledger import LedgerError

    course = paid_course(world.school_a)
    bill = Bill.objects.get(enrolment=enrol(world, course))
    pay(bill)
    with pytest.raises(LedgerError):
        from django.db import transaction

        with transaction.atomic():
            fees.refund_post(bill, Decimal("60.01"), actor=world.principal_a, memo="x")
    assert fees.held(bill) == 60
