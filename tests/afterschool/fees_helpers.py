"""A paid course around today: a term from 20 days ago to 40 days on, the course on today's
weekday with lessons a week apart (today and the two weeks after, unless ``weeks`` says
otherwise), billed per term. Enrolment closes when the first lesson starts and the roll-call
opens then, so tests say when they act: ``early(course)`` is an hour before the first lesson,
``during(lesson)`` a minute after a lesson's start."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from afterschool.models import FeeEntry, FeeRule, Lesson, Offering, Room, SchoolPlan
from portal import ledger
from portal.models import CalendarYear, SchoolPeriod, SchoolStaff


def today():
    return timezone.localdate()


def term_around_today(district):
    # a term running into a year the calendar package does not know yet: as staff would,
    # the year is entered (no holidays beyond the weekends), so moves there are judged
    for year in {today().year, (today() + dt.timedelta(days=40)).year}:
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "staff"})
    return SchoolPeriod.objects.create(
        district=district,
        name="本学期",
        kind="term",
        start=today() - dt.timedelta(days=20),
        end=today() + dt.timedelta(days=40),
        status="active",
    )


def paid_course(
    school,
    *,
    fee="20.00",
    capacity=2,
    contract=None,
    name="创意美术",
    term=None,
    weeks=(0, 1, 2),
    start=dt.time(15, 30),
    end=dt.time(16, 30),
):
    term = term or term_around_today(school.district)
    plan = SchoolPlan.objects.get_or_create(
        school=school,
        term=term,
        defaults={
            "weekdays": [0, 1, 2, 3, 4, 5, 6],
            "start_time": dt.time(15, 30),
            "end_time": dt.time(17, 30),
            "items": "托管、社团",
            "status": SchoolPlan.Status.IN_EFFECT,
        },
    )[0]  # one plan a school and term: a second course of the term joins it
    teacher = SchoolStaff.objects.filter(school=school, role=SchoolStaff.Role.TEACHER).first()
    room = Room.objects.get_or_create(school=school, name="美术教室", defaults={"capacity": 40})[0]
    course = Offering.objects.create(
        school=school,
        plan=plan,
        name=name,
        kind="enrichment",
        teacher=teacher,
        contract=contract,
        grades=[3],
        capacity=capacity,
        weekday=today().weekday(),
        start=start,
        end=end,
        fee_per_lesson=Decimal(fee),
        room=room,
        status=Offering.Status.PUBLISHED,
    )
    for n in weeks:
        day = today() + dt.timedelta(weeks=n)
        Lesson.objects.create(
            offering=course, planned_date=day, date=day, start=start, end=end, room=room
        )
    FeeRule.objects.get_or_create(school=school, defaults={"period": FeeRule.Period.TERM})
    return course


def early(course) -> dt.datetime:
    first = course.lessons.order_by("date", "start").first()
    return timezone.make_aware(dt.datetime.combine(first.date, first.start)) - dt.timedelta(hours=1)


def during(lesson) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(lesson.date, lesson.start)) + dt.timedelta(
        minutes=1
    )


@pytest.fixture
def balanced_ledger(db):
    """Every fee test ends with a ledger whose entries sum to zero, transaction by
    transaction."""
    yield
    assert ledger.ledger_total(FeeEntry) == 0
    from afterschool.models import FeeTransaction

    assert not ledger.unbalanced_transactions(FeeTransaction).exists()
