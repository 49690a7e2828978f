"""Lunch-break care (午托): per school and month, beds as a capacity beside seats.

A month of a school's lunch care is one Offering of kind LUNCH on the shared engine: its
capacity is the seats, its ``fee_per_lesson`` the fee of one day (the month's fee spread
over the month's open days, rounded down to the cent, so a whole month never bills above
the fee the school set), its daily lessons are the breaks of the school's open days on the
weekdays offered. ``LunchMonth`` holds the beds and the month's fee; ``LunchChoice`` the
child's arrangement (平躺睡 needs a bed, 趴睡 a desk) and days, beside the Enrolment.

Enrolment locks the offering (the engine's lock order: the offering, then its enrolments),
counts the beds taken under that lock and hands over to ``enrolment.take_locked``, which
counts the seats, bills a place and audits; a child who asks for a bed when none is left
waits. When a place frees, the engine's ``_promote`` asks ``WAITING_ELIGIBLE["lunch"]``:
a child waiting for a bed moves up only if a bed is free.
"""

import calendar
import datetime as dt
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from afterschool import enrolment as engine
from afterschool.lessons import open_days, roll_submit, term_plan_problem
from afterschool.lunch_models import LunchChoice, LunchMonth
from afterschool.models import Attendance, Enrolment, Lesson, Offering, Room, SchoolPlan
from portal.audit import audit_record
from portal.locks import locked
from portal.models import School, SchoolStaff
from portal.permissions import is_school_manager, require

CENT = Decimal("0.01")
WEEKDAYS = (0, 1, 2, 3, 4)
BED = LunchChoice.Arrangement.BED
DEFAULT_START, DEFAULT_END = dt.time(12, 0), dt.time(13, 30)


def _pause():
    pass


# Tests widen the window between counting the beds and writing the enrolment here.
_after_beds_read = _pause


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def beds_taken(offering_id: int) -> int:
    """Beds held by children with a place (the waiting list holds none)."""
    return LunchChoice.objects.filter(
        enrolment__offering_id=offering_id,
        enrolment__status=Enrolment.Status.ENROLLED,
        arrangement=BED,
    ).count()


def _eligible(offering, waiting):
    """WAITING_ELIGIBLE["lunch"]: with no bed free, only children who nap at a desk (or
    have no choice recorded) may move up into a freed seat."""
    beds = LunchMonth.objects.filter(offering=offering).values_list("beds", flat=True).first()
    if beds is None or beds_taken(offering.pk) < beds:
        return waiting
    # a subquery, not a join: the engine locks the rows it reads (FOR UPDATE)
    lying = LunchChoice.objects.filter(enrolment=OuterRef("pk"), arrangement=BED)
    return waiting.exclude(Exists(lying))


engine.WAITING_ELIGIBLE[Offering.Kind.LUNCH] = _eligible


# --- the school's setup ------------------------------------------------------------------------


def _plan_for(school, first: dt.date, last: dt.date) -> SchoolPlan | None:
    return (
        SchoolPlan.objects.filter(
            school=school,
            status=SchoolPlan.Status.IN_EFFECT,
            term__start__lte=last,
            term__end__gte=first,
        )
        .select_related("term")
        .order_by("term__start")
        .first()
    )


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def month_open(
    *,
    user,
    month: dt.date,
    seats: int,
    beds: int,
    fee_per_month,
    days,
    room_id: int,
    start: dt.time = DEFAULT_START,
    end: dt.time = DEFAULT_END,
    teacher_id: int | None = None,
) -> LunchMonth:
    """The principal or 教导处 open a month of their school's lunch care: its offering (seats,
    the per-day fee), its daily lessons on the school's open days of the weekdays offered,
    and its beds. Refused: a fee above LUNCH_FEE_CAP_PER_MONTH, beds below 0 or above the
    seats, a month outside the term of the school's plan in effect, a month already open."""
    require(is_school_manager(user))
    school = user.school_staff.school
    cap = Decimal(settings.LUNCH_FEE_CAP_PER_MONTH)
    errors: dict[str, str] = {}
    fee = _decimal(fee_per_month)
    if fee is None or fee < 0 or fee != fee.quantize(CENT):
        errors["fee_per_month"] = "每月收费：请填写不小于 0、最多两位小数的金额。"
    elif fee > cap:
        errors["fee_per_month"] = (
            f"每月收费：{fee} 元超过本区午托收费上限每生每月 {cap} 元（LUNCH_FEE_CAP_PER_MONTH）。"
        )
    if seats is None or seats < 1:
        errors["seats"] = "名额：至少 1 个。"
    if beds is None or beds < 0:
        errors["beds"] = "床位数：不能小于 0。"
    elif seats is not None and seats >= 1 and beds > seats:
        errors["beds"] = f"床位数：{beds} 张多于名额 {seats} 个，床位只给有名额的学生。"
    days = sorted(set(days or []))
    if not days or any(d not in WEEKDAYS for d in days):
        errors["days"] = "开放日：请在周一至周五中至少选择一天。"
    if start >= end:
        errors["end"] = "结束时间：必须晚于开始时间。"
    room = Room.objects.filter(pk=room_id, school=school).first()
    if room is None:
        errors["room"] = "午休场地：请选择本校的教室/场地。"
    elif seats and room.capacity < seats:
        errors["room"] = f"午休场地：{room.name}只能容纳 {room.capacity} 人，少于名额 {seats} 个。"
    teacher = None
    if teacher_id:
        teacher = SchoolStaff.objects.filter(pk=teacher_id, school=school).first()
        if teacher is None:
            errors["teacher"] = "值班教师：请选择本校教职工。"
    first, last = month_bounds(month)
    plan = _plan_for(school, first, last)
    label = f"{first.year}年{first.month}月"
    if plan is None:
        errors["month"] = f"月份：{label}不在本校实施中的课后服务方案的学期内。"
    elif LunchMonth.objects.filter(school=school, month=first).exists():
        errors["month"] = f"月份：本校{label}的午托已开设。"
    if errors:
        raise ValidationError(errors)
    term = plan.term
    starts_on, ends_on = max(first, term.start), min(last, term.end)
    found, note = open_days(school, starts_on, ends_on)
    break_days = [d for d in found if d.weekday() in days]
    if not break_days:
        raise ValidationError({"month": f"月份：{label}在开放日中没有上学日。{note}".strip()})
    per_day = (fee / len(break_days)).quantize(CENT, rounding=ROUND_DOWN)
    with transaction.atomic():
        locked(School.objects.filter(pk=school.pk)).get()  # one opening of a month at a time
        if LunchMonth.objects.filter(school=school, month=first).exists():
            raise ValidationError({"month": f"月份：本校{label}的午托已开设。"})
        offering = Offering.objects.create(
            school=school, plan=plan, name=f"{label}午托", kind=Offering.Kind.LUNCH,
            teacher=teacher, grades=list(range(1, 10)), capacity=seats,
            weekday=break_days[0].weekday(), start=start, end=end, fee_per_lesson=per_day,
            room=room, starts_on=starts_on, ends_on=ends_on,
            status=Offering.Status.PUBLISHED,
        )  # fmt: skip
        gate = term_plan_problem(offering)
        if gate:
            raise ValidationError({"month": f"月份：{gate}"})
        Lesson.objects.bulk_create(
            [
                Lesson(
                    offering=offering, planned_date=d, date=d, start=start, end=end, room_id=room.pk
                )  # fmt: skip
                for d in break_days
            ],
            ignore_conflicts=True,
        )
        lunch = LunchMonth.objects.create(
            offering=offering, school=school, month=first, beds=beds, fee_per_month=fee,
            days=days, by=user,
        )  # fmt: skip
        audit_record(
            actor=user,
            action="afterschool.lunch.month_opened",
            obj=lunch,
            new={"seats": seats, "beds": beds, "fee_per_month": str(fee), "days": days,
                 "break_days": len(break_days), "fee_per_day": str(per_day)},
        )  # fmt: skip
    return lunch


def month_change(*, user, month_id: int, seats: int, beds: int) -> LunchMonth:
    """The principal or 教导处 change a month's seats and beds: never below what is taken
    (seats with a place, beds lying down), beds never above the seats, the seats within the
    room. More room moves the waiting list up at once, in order, by the bed rule."""
    require(is_school_manager(user))
    with transaction.atomic():
        lunch = (
            LunchMonth.objects.select_related("offering__room")
            .filter(pk=month_id, school_id=user.school_staff.school_id)
            .first()
        )
        if lunch is None:
            raise PermissionDenied
        offering = locked(Offering.objects.select_related("room"), of=("self",)).get(
            pk=lunch.offering_id
        )
        lunch = locked(LunchMonth.objects.filter(pk=month_id), of=("self",)).get()
        seats_taken = Enrolment.objects.filter(
            offering=offering, status=Enrolment.Status.ENROLLED
        ).count()
        lying = beds_taken(offering.pk)
        errors = {}
        if seats is None or seats < max(1, seats_taken):
            errors["seats"] = f"名额：不能少于已报名的 {max(1, seats_taken)} 人。"
        elif offering.room is not None and offering.room.capacity < seats:
            errors["seats"] = (
                f"名额：{offering.room.name}只能容纳 {offering.room.capacity} 人，"
                f"少于名额 {seats} 个。"
            )
        if beds is None or beds < lying:
            errors["beds"] = f"床位数：不能少于已在平躺睡的 {lying} 人。"
        elif seats is not None and beds > seats:
            errors["beds"] = f"床位数：{beds} 张多于名额 {seats} 个，床位只给有名额的学生。"
        if errors:
            raise ValidationError(errors)
        old = {"seats": offering.capacity, "beds": lunch.beds}
        offering.capacity = seats
        offering.save(update_fields=["capacity"])
        lunch.beds = beds
        lunch.save(update_fields=["beds"])
        audit_record(
            actor=user, action="afterschool.lunch.month_changed", obj=lunch, old=old,
            new={"seats": seats, "beds": beds},
        )  # fmt: skip
        while engine._promote(offering.pk, actor=user) is not None:
            pass
    return lunch


# --- parents ----------------------------------------------------------------------------------


def enrol(
    *, user, child_id: int, month_id: int, arrangement: str, days, now=None, lock: bool = True
) -> Enrolment:
    """A parent enrols their child in a month of lunch care with the days and arrangement
    chosen. No seat left, or a bed asked for with no bed left: the waiting list (the
    returned enrolment's status says so, and ``waiting_reason`` why). ``lock=False`` only
    for the control test that shows the race on the last bed without the lock."""
    child = engine._parent_child(user, child_id)
    lunch = LunchMonth.objects.select_related("offering__plan__term").filter(pk=month_id).first()
    if lunch is None or lunch.school_id != child.school_id:
        raise PermissionDenied
    errors = {}
    if arrangement not in LunchChoice.Arrangement.values:
        errors["arrangement"] = "午休方式：请选择平躺睡（床位）或趴睡（课桌）。"
    days = sorted(set(days or []))
    if not days or any(d not in lunch.days for d in days):
        errors["days"] = f"午托日：请在本月开放的{lunch.days_label}中至少选择一天。"
    if errors:
        raise ValidationError(errors)
    live = engine._live(lunch.offering_id, child)
    if live is not None:
        raise engine.AlreadyEnrolled(live)
    problem = engine.why_not(child, lunch.offering, now=now)
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        offerings = Offering.objects.select_related("plan__term")
        if lock:
            offerings = locked(offerings, of=("self",))
        offering = offerings.get(pk=lunch.offering_id)
        live = engine._live(offering.pk, child)  # a second tap that waited for the first
        if live is not None:
            raise engine.AlreadyEnrolled(live)
        if offering.status != Offering.Status.PUBLISHED:
            raise ValidationError("该月午托目前不开放报名。")
        gate = term_plan_problem(offering)
        if gate:
            raise ValidationError(gate)
        no_bed = arrangement == BED and beds_taken(offering.pk) >= lunch.beds
        _after_beds_read()
        taken = engine.take_locked(offering, child, user, full=no_bed)
        LunchChoice.objects.create(enrolment=taken, arrangement=arrangement, days=days)
        audit_record(
            actor=user,
            action="afterschool.lunch.enrolled",
            obj=taken,
            new={"arrangement": arrangement, "days": days, "status": taken.status},
        )
    return taken


def waiting_reason(enrolment: Enrolment) -> str:
    """Why a lunch enrolment waits, in Chinese, with its place on the list."""
    if enrolment.status != Enrolment.Status.WAITING:
        return ""
    position = engine.waiting_position(enrolment)
    choice = getattr(enrolment, "lunch_choice", None)
    lunch = enrolment.offering.lunch_month
    if (
        choice is not None
        and choice.arrangement == BED
        and beds_taken(enrolment.offering_id) >= lunch.beds
    ):
        why = f"床位已满（共 {lunch.beds} 张）"
    else:
        why = f"名额已满（共 {enrolment.offering.capacity} 个）"
    return f"{why}，{enrolment.child.name}已进入候补名单第 {position} 位，有空位时按报名先后递补。"


def withdraw(*, user, enrolment_id: int, now=None) -> Enrolment:
    """A parent cancels a lunch enrolment (the engine's rules: a waiting place at any time,
    a place before the month's first break); the place and its bed go to the waiting list."""
    if not Enrolment.objects.filter(
        pk=enrolment_id, offering__kind=Offering.Kind.LUNCH, child__parents__user=user
    ).exists():
        raise PermissionDenied
    return engine.withdraw(user=user, enrolment_id=enrolment_id, now=now)


def withdraw_by_staff(*, user, enrolment_id: int, reason: str, now=None) -> Enrolment:
    """The principal or 教导处 take a child out of a month of lunch care, with a reason."""
    if not Enrolment.objects.filter(pk=enrolment_id, offering__kind=Offering.Kind.LUNCH).exists():
        raise PermissionDenied
    return engine.withdraw_by_staff(user=user, enrolment_id=enrolment_id, reason=reason, now=now)


# --- the roll-call at the start of the break --------------------------------------------------


def expected(lesson: Lesson) -> list[Enrolment]:
    """The children with a place who chose the lesson's weekday (those expected today)."""
    weekday = lesson.date.weekday()
    rows = (
        Enrolment.objects.filter(offering_id=lesson.offering_id, status=Enrolment.Status.ENROLLED)
        .select_related("child__school_class", "lunch_choice")
        .order_by("child__name", "child_id")
    )
    return [e for e in rows if _chose(e, weekday)]


def _chose(enrolment: Enrolment, weekday: int) -> bool:
    choice = getattr(enrolment, "lunch_choice", None)
    return choice is None or weekday in choice.days


def roll_take(*, user, lesson_id: int, marks: dict[int, str], now=None) -> Lesson:
    """The roll-call of a break through the engine's ``roll_submit``: ``marks`` for the
    children expected that weekday; a child with a place who did not choose the day is
    recorded as 请假 (not expected), so the engine's roll is complete and no parent is told
    of an absence."""
    lesson = Lesson.objects.select_related("offering").filter(pk=lesson_id).first()
    if lesson is None or lesson.offering.kind != Offering.Kind.LUNCH:
        raise PermissionDenied
    weekday = lesson.date.weekday()
    full = {}
    for e in Enrolment.objects.filter(
        offering_id=lesson.offering_id, status=Enrolment.Status.ENROLLED
    ).select_related("lunch_choice"):
        if _chose(e, weekday):
            if e.child_id in marks:
                full[e.child_id] = marks[e.child_id]
        else:
            full[e.child_id] = Attendance.Mark.LEAVE
    for child_id, mark in marks.items():
        full.setdefault(child_id, mark)  # a stranger to the roll: the engine refuses it
    return roll_submit(user=user, lesson_id=lesson_id, marks=full, now=now or timezone.now())
