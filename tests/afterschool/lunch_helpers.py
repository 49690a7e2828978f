"""Helpers of the lunch-care tests: a term around today with its plan in effect, a room,
and next month open for lunch care (so no break has started: enrolment is open)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from afterschool import lunch
from afterschool.models import Room, SchoolPlan
from portal.models import CalendarYear, SchoolPeriod
from tests.factories import ChildFactory, ParentFactory


def next_month(today=None) -> dt.date:
    today = today or timezone.localdate()
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def lunch_term(school) -> SchoolPeriod:
    """An active term from 60 days ago to 100 days on (next month inside it), with every
    year it covers known to the calendar (a year not yet published: no holidays)."""
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=60), today + dt.timedelta(days=100)
    for year in range(start.year, end.year + 1):
        CalendarYear.objects.get_or_create(
            year=year, defaults={"source": CalendarYear.Source.STAFF, "note": "test"}
        )
    return SchoolPeriod.objects.get_or_create(
        district=school.district, name="午托测试学期",
        defaults={"kind": "term", "start": start, "end": end, "status": "active"},
    )[0]  # fmt: skip


def lunch_plan(school) -> SchoolPlan:
    return SchoolPlan.objects.get_or_create(
        school=school, term=lunch_term(school),
        defaults={"weekdays": [0, 1, 2, 3, 4], "start_time": dt.time(15, 30),
                  "end_time": dt.time(17, 30), "items": "托管、午托",
                  "status": SchoolPlan.Status.IN_EFFECT},
    )[0]  # fmt: skip


def nap_room(school, capacity=80) -> Room:
    return Room.objects.get_or_create(
        school=school, name="午休室", defaults={"capacity": capacity}
    )[0]


def open_month(w, *, seats=3, beds=1, fee="150", days=(0, 1, 2, 3, 4), school=None, user=None):
    school = school or w.school_a
    lunch_plan(school)
    return lunch.month_open(
        user=user or w.principal_a, month=next_month(), seats=seats, beds=beds,
        fee_per_month=Decimal(fee), days=list(days), room_id=nap_room(school).pk,
    )  # fmt: skip


def families(school_class, n, prefix="lunchfam"):
    out = []
    for i in range(n):
        parent = ParentFactory(user__username=f"{prefix}{school_class.pk}_{i}")
        child = ChildFactory(school_class=school_class, name=f"{prefix}童{i}")
        child.parents.add(parent)
        out.append((parent.user, child))
    return out
