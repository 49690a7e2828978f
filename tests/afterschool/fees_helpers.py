"""A paid course around today: a term from 20 days ago to 40 days on, the course on today's
weekday with lessons a week apart (two before today, today, two after), billed per term."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from afterschool.models import FeeEntry, FeeRule, Lesson, Offering, SchoolPlan
from portal import ledger
from portal.models import SchoolPeriod, SchoolStaff


def today():
    return timezone.localdate()


def term_around_today(district):
    return SchoolPeriod.objects.create(
        district=district,
        name="本学期",
        kind="term",
        start=today() - dt.timedelta(days=20),
        end=today() + dt.timedelta(days=40),
    )


def paid_course(school, *, fee="20.00", capacity=2, contract=None, name="创意美术", term=None):
    term = term or term_around_today(school.district)
    plan = SchoolPlan.objects.create(
        school=school, term=term, weekdays=[0, 1, 2, 3, 4, 5, 6],
        start_time=dt.time(15, 30), end_time=dt.time(17, 30), items="托管、社团",
        status=SchoolPlan.Status.IN_EFFECT,
    )  # fmt: skip
    teacher = SchoolStaff.objects.filter(school=school, role=SchoolStaff.Role.TEACHER).first()
    course = Offering.objects.create(
        school=school, plan=plan, name=name, kind="enrichment", teacher=teacher,
        contract=contract, grades=[3], capacity=capacity, weekday=today().weekday(),
        start=dt.time(15, 30), end=dt.time(16, 30), fee_per_lesson=Decimal(fee),
        status=Offering.Status.PUBLISHED,
    )  # fmt: skip
    for weeks in (-2, -1, 0, 1, 2):
        Lesson.objects.create(offering=course, date=today() + dt.timedelta(weeks=weeks))
    FeeRule.objects.get_or_create(school=school, defaults={"period": FeeRule.Period.TERM})
    return course


@pytest.fixture
def balanced_ledger(db):
    """Every fee test ends with a ledger whose entries sum to zero, transaction by
    transaction."""
    yield
    assert ledger.ledger_total(FeeEntry) == 0
    from afterschool.models import FeeTransaction

    assert not ledger.unbalanced_transactions(FeeTransaction).exists()
