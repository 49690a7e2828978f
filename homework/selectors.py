"""Reads of homework shared by its pages, scoped and with their joins."""

import datetime as dt
from collections import defaultdict

from django.db.models import Q, Sum

from homework.models import ClassBoard, HomeworkItem, HomeworkPolicy
from homework.services import counted_minutes_q
from portal.access import scope
from portal.models import SchoolClass


def week_of(day: dt.date) -> list[dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return [monday + dt.timedelta(days=i) for i in range(7)]


def classes_with_totals(user, date: dt.date, policy: HomeworkPolicy, grade=None):
    qs = scope(SchoolClass.objects.all(), user).select_related("head_teacher")
    if grade:
        qs = qs.filter(grade=grade)
    counted = counted_minutes_q(policy, prefix="homework__") & Q(homework__date=date)
    return qs.annotate(total=Sum("homework__minutes", filter=counted)).order_by("grade", "number")


def items_for(school_class, dates):
    return (
        HomeworkItem.objects.filter(
            school_class=school_class, date__in=list(dates), status=HomeworkItem.Status.PUBLISHED
        )
        .select_related("published_by", "school_class")
        .order_by("date", "subject", "id")
    )


def week_grid(school_class, day: dt.date):
    """(days, {subject: {date: [items]}}, {date: counted minutes}) for the weekly plan."""
    days = week_of(day)
    policy = HomeworkPolicy.current()
    grid = defaultdict(lambda: defaultdict(list))
    totals = dict.fromkeys(days, 0)
    for item in items_for(school_class, days):
        grid[item.subject][item.date].append(item)
        if policy.counts(required=item.required, written=item.written):
            totals[item.date] += item.minutes
    rows = [(subject, [grid[subject][d] for d in days]) for subject in sorted(grid)]
    return days, rows, [totals[d] for d in days], policy.limit_for(school_class.grade)


def board_for(school_class) -> ClassBoard:
    board, _created = ClassBoard.objects.get_or_create(school_class=school_class)
    return board


def grade_week(user, grade: int, day: dt.date):
    """Each class of a grade (in the user's school) with its counted minutes per day."""
    days = week_of(day)
    policy = HomeworkPolicy.current()
    classes = list(scope(SchoolClass.objects.all(), user).filter(grade=grade).order_by("number"))
    totals = (
        HomeworkItem.objects.filter(
            counted_minutes_q(policy), school_class__in=classes, date__in=days
        )
        .values_list("school_class_id", "date")
        .annotate(total=Sum("minutes"))
    )
    grid = {(class_id, date): total for class_id, date, total in totals}
    rows = [(c, [grid.get((c.pk, d), 0) for d in days]) for c in classes]
    return days, rows, policy.limit_for(grade)


def daily_list(school_class, start: dt.date, end: dt.date):
    """假期作业天天清: every day from start to end with its items (empty days included)."""
    items = defaultdict(list)
    for item in items_for_range(school_class, start, end):
        items[item.date].append(item)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [(d, items[d]) for d in days]


def items_for_range(school_class, start, end):
    return (
        HomeworkItem.objects.filter(
            school_class=school_class, date__range=(start, end),
            status=HomeworkItem.Status.PUBLISHED,
        )
        .select_related("published_by", "school_class")
        .order_by("date", "subject", "id")
    )  # fmt: skip
