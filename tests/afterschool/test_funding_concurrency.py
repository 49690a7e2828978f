"""Two posters at once (two real connections): the per-pupil subsidy is posted once per school
and term, and a subsidy posted while the principal settles the term lands beside it, the
ledger balanced."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from afterschool import fees, funding
from afterschool.funding_models import SubsidyGrant
from afterschool.models import FeeEntry, FeeTransaction, Lesson, Offering, Settlement
from portal import ledger
from tests.afterschool.fees_helpers import paid_course
from tests.afterschool.test_funding import term_of
from tests.post_routes import staff_of

pytestmark = pytest.mark.django_db(transaction=True)


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)
        finally:
            connection.close()

    original = funding._after_grant_read
    funding._after_grant_read = lambda: time.sleep(0.3)  # the first holds its lock a while
    try:
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        funding._after_grant_read = original
    return results, errors


def test_two_bureau_staff_posting_the_same_subsidy_post_it_once(world):
    term = term_of(world)
    a, b = staff_of("课后服务", "bureau_as1"), staff_of("课后服务", "bureau_as2")
    results, errors = _together(
        lambda: funding.subsidy_post(actor=a, school_id=world.school_a.pk, term_id=term.pk),
        lambda: funding.subsidy_post(actor=b, school_id=world.school_a.pk, term_id=term.pk),
    )
    assert errors == []
    assert results[0].pk == results[1].pk
    assert sorted([results[0].replayed, results[1].replayed]) == [False, True]
    assert SubsidyGrant.objects.count() == 1
    assert FeeTransaction.objects.filter(kind="subsidy").count() == 1
    assert ledger.ledger_total(FeeEntry) == 0


def test_a_subsidy_posted_while_the_term_is_settled_lands_beside_it(world):
    course = paid_course(world.school_a, fee="0.00")
    Offering.objects.filter(pk=course.pk).update(teacher=world.teacher_a.school_staff)
    Lesson.objects.filter(offering=course).update(status=Lesson.Status.HELD)
    term = course.plan.term
    bureau = staff_of("课后服务", "bureau_as")
    results, errors = _together(
        lambda: funding.subsidy_post(
            actor=bureau, school_id=world.school_a.pk, term_id=term.pk, pupils=2
        ),
        lambda: fees.settlement_post(actor=world.principal_a, term_id=term.pk),
    )
    assert errors == []
    assert Settlement.objects.get(school=world.school_a, term=term).pool == -150
    pool = funding.pool_account(world.school_a.pk, term.pk)
    assert ledger.balance(FeeEntry, pool) == Decimal("-150.00")  # +150 owed, −300 received
    assert ledger.ledger_total(FeeEntry) == 0
    assert not ledger.unbalanced_transactions(FeeTransaction).exists()


def test_two_managers_reporting_the_same_month_at_once_leave_one_row(world):
    from afterschool.funding_models import TeacherPay
    from portal.models import SchoolStaff
    from tests.afterschool.test_funding import held_lessons, last_month
    from tests.factories import SchoolStaffFactory

    held_lessons(world, 2)
    academic = SchoolStaffFactory(
        school=world.school_a, role=SchoolStaff.Role.ACADEMIC, user__username="jiaowu_a"
    ).user
    teacher = world.teacher_a.school_staff
    results, errors = _together(
        *[
            (lambda who=who, amount=amount: funding.teacher_pay_report(
                actor=who, month=last_month(), amounts={teacher.pk: amount}
            ))
            for who, amount in ((world.principal_a, "100"), (academic, "120"))
        ]
    )  # fmt: skip
    assert errors == []
    row = TeacherPay.objects.get()
    assert (row.lessons, str(row.amount)) in {(2, "100.00"), (2, "120.00")}
