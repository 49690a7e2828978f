"""POST cases of lunch-break care (午托, /lunch/): opening a month, a parent's enrolment and
withdrawal, the school's withdrawal, the roll-call of a break."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from afterschool import lunch
from afterschool.lunch_models import LunchMonth
from afterschool.models import Enrolment, Lesson
from tests.afterschool.lunch_helpers import lunch_plan, nap_room, next_month, open_month
from tests.post_routes import Case, case

ALL_DAYS = [0, 1, 2, 3, 4]


def _enrolment(pk):
    return lambda: Enrolment.objects.values_list("status", flat=True).get(pk=pk)


@case("lunch:open", refused=("anonymous", "teacher", "parent", "bureau_afterschool",
                             "staff_without_group"))  # fmt: skip
def month_open(w):
    lunch_plan(w.school_a)
    room = nap_room(w.school_a)
    month = f"{next_month():%Y-%m}"
    form = {"month": month, "seats": 30, "beds": 20, "fee_per_month": "150", "days": ALL_DAYS,
            "room": room.pk, "start": "12:00", "end": "13:30", "teacher": ""}  # fmt: skip
    return Case(
        url=reverse("lunch:open"), user=w.principal_a, valid=form,
        state=lambda: list(LunchMonth.objects.values_list("school_id", "month", "beds")),
        audit="afterschool.lunch.month_opened",
        invalid=form | {"fee_per_month": "200.50"},
        error="每月收费：200.50 元超过本区午托收费上限每生每月 200 元（LUNCH_FEE_CAP_PER_MONTH）。",
    )  # fmt: skip


@case("lunch:enrol", refused=("anonymous", "stranger_parent", "other_school", "teacher",
                              "school"))  # fmt: skip
def enrol(w):
    m = open_month(w, seats=3, beds=1)
    child = w.child_a.pk
    return Case(
        url=reverse("lunch:enrol", args=[m.pk]), user=w.parent_a,
        valid={"child": child, "arrangement": "bed", "days": ALL_DAYS},
        state=lambda: list(Enrolment.objects.values_list("child_id", "status")),
        audit="afterschool.lunch.enrolled",
        invalid={"child": child, "arrangement": "", "days": ALL_DAYS},
        error="午休方式：请选择平躺睡（床位）或趴睡（课桌）。",
    )  # fmt: skip


def _enrolled(w):
    m = open_month(w, seats=3, beds=1)
    e = lunch.enrol(user=w.parent_a, child_id=w.child_a.pk, month_id=m.pk, arrangement="bed",
                    days=ALL_DAYS)  # fmt: skip
    return m, e


@case("lunch:withdraw", refused=("anonymous", "stranger_parent", "teacher", "school"))
def withdraw(w):
    _m, e = _enrolled(w)
    return Case(
        url=reverse("lunch:withdraw", args=[e.pk]), user=w.parent_a, valid={},
        state=_enrolment(e.pk), audit="afterschool.enrolment.withdrawn",
        no_invalid="a button without fields",
    )  # fmt: skip


@case("lunch:staff_withdraw", refused=("anonymous", "other_school", "teacher", "parent",
                                       "bureau_afterschool"))  # fmt: skip
def staff_withdraw(w):
    _m, e = _enrolled(w)
    return Case(
        url=reverse("lunch:staff_withdraw", args=[e.pk]), user=w.principal_a,
        valid={"reason": "家长申请改为回家午休"}, state=_enrolment(e.pk),
        audit="afterschool.enrolment.withdrawn",
        invalid={"reason": ""}, error="请填写退课原因。",
    )  # fmt: skip


@case("lunch:roll", refused=("anonymous", "other_school", "teacher", "parent",
                             "bureau_afterschool"))  # fmt: skip
def roll(w):
    m, _e = _enrolled(w)
    # a break of the last weekday up to today, started: the roll-call is open
    day = timezone.localdate()
    while day.weekday() > 4:
        day -= dt.timedelta(days=1)
    lesson = Lesson.objects.filter(offering=m.offering).order_by("date").first()
    Lesson.objects.filter(pk=lesson.pk).update(date=day, start=dt.time(0, 0), end=dt.time(0, 1))
    child = w.child_a.pk
    return Case(
        url=reverse("lunch:roll", args=[lesson.pk]), user=w.principal_a,
        valid={f"mark_{child}": "present"},
        state=lambda: Lesson.objects.values_list("status", flat=True).get(pk=lesson.pk),
        audit="afterschool.lesson.roll",
        invalid={f"mark_{child}": "late"}, error="请为每位学生选择出勤、缺勤或请假。",
    )  # fmt: skip


@case("lunch:change", refused=("anonymous", "other_school", "teacher", "parent",
                               "bureau_afterschool"))  # fmt: skip
def change(w):
    m, _e = _enrolled(w)
    return Case(
        url=reverse("lunch:change", args=[m.pk]), user=w.principal_a,
        valid={"seats": 5, "beds": 2},
        state=lambda: LunchMonth.objects.values_list("beds", flat=True).get(pk=m.pk),
        audit="afterschool.lunch.month_changed",
        invalid={"seats": 5, "beds": 0}, error="床位数：不能少于已在平躺睡的 1 人。",
    )  # fmt: skip
