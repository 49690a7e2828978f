"""Holiday care (暑期/寒假托管): every write of a host site, on the after-school engine.

Bureau staff of 课后服务 designate a host site for a vacation (a school — its CareSite made here
when missing — or a community site), with capacity, served schools, week blocks, days,
hours and the fee of a block (≤ HOLIDAY_CARE_FEE_CAP_PER_WEEK). Opening it creates one
Offering (kind HOLIDAY) per week block under the vacation plan of the site's school (its
money school), published with its lessons; closing it stops the blocks that have not begun.
Parents enrol per block through ``afterschool.enrolment.enrol`` (the course's lock, the
waiting list, a bill per block through ``afterschool.fees``); this module only checks the
holiday rules first (``enrol_week``).

Policy (settings): days HOLIDAY_CARE_WEEKDAYS (Mon–Fri), a morning covering at least
HOLIDAY_CARE_MORNING_START–END (8:30–11:30), afternoons optional, no subject lessons
(不得组织集体补课: a plan item of activity 学科辅导 is refused).
"""

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from afterschool import enrolment as engine
from afterschool import lessons as lesson_engine
from afterschool.holiday_models import HostSite, HostWeek
from afterschool.models import CareSite, Enrolment, Offering, PlanItem, SchoolPlan
from afterschool.plans import SUBJECT_REFUSED, holiday_morning, weekdays_label
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.models import School, SchoolPeriod
from portal.permissions import is_bureau, require

DECIDE_PERM = "afterschool.change_hostsite"
Status = HostSite.Status
FIELDS = [
    "capacity", "weeks", "days", "morning_start", "morning_end", "afternoon_start",
    "afternoon_end", "fee_per_week",
]  # fmt: skip
CENT = Decimal("0.01")
# the activities holiday care offers (never 学科辅导)
HOLIDAY_ACTIVITIES = [
    PlanItem.Activity.CARE,
    PlanItem.Activity.SELF_STUDY,
    PlanItem.Activity.SPORTS_ARTS,
    PlanItem.Activity.READING,
]


def may_manage(user) -> bool:
    """Bureau staff of 课后服务 holding the host-site permission."""
    return is_bureau(user, line="afterschool", perm=DECIDE_PERM)


def fee_cap() -> Decimal:
    return Decimal(settings.HOLIDAY_CARE_FEE_CAP_PER_WEEK)


def block_span(host: HostSite, week: dt.date) -> tuple[dt.date, dt.date]:
    """A week block's first and last day: its host days of that week, inside the vacation."""
    days = sorted(host.days)
    first = max(week + dt.timedelta(days=days[0]), host.vacation.start)
    last = min(week + dt.timedelta(days=days[-1]), host.vacation.end)
    return first, last


def _hours(host) -> tuple[dt.time, dt.time]:
    return host.morning_start, host.afternoon_end or host.morning_end


# --- designation ----------------------------------------------------------------------------


def _clean(*, vacation, site, capacity, served, weeks, days, morning_start, morning_end,
           afternoon_start, afternoon_end, fee_per_week) -> dict:  # fmt: skip
    """The holiday rules on a designation, keyed by form field, each naming its number."""
    errors: dict[str, list[str]] = {}

    def add(key, message):
        errors.setdefault(key, []).append(message)

    if not vacation.is_vacation:
        add("vacation", "请选择寒假或暑假，学期的课后服务按一校一案办理。")
    elif vacation.district_id != site.district_id:
        add("vacation", "请选择托管点所在区的假期。")
    elif vacation.status not in (SchoolPeriod.Status.DRAFT, SchoolPeriod.Status.ACTIVE):
        add("vacation", f"{vacation.name}已{vacation.get_status_display()}。")
    if capacity is None or capacity < 1:
        add("capacity", "每周名额至少为 1。")
    elif capacity > site.capacity:
        add("capacity", f"每周名额{capacity}人超过{site.name}的容纳人数{site.capacity}人。")
    if not served:
        add("served_schools", "请选择托管点服务的学校。")
    elif any(s.district_id != site.district_id for s in served):
        add("served_schools", "只能选择本区的学校。")
    allowed = set(settings.HOLIDAY_CARE_WEEKDAYS)
    if not days:
        add("days", "请选择服务日。")
    elif set(days) - allowed:
        add(
            "days",
            f"假期托管只在{weekdays_label(allowed)}开展，"
            f"不能安排{weekdays_label(set(days) - allowed)}。",
        )
    if not weeks:
        add("weeks", "请至少选择一周。")
    for week in sorted(set(weeks or [])):
        if week.weekday() != 0:
            add("weeks", f"{week} 不是周一：托管周以周一为第一天。")
        elif not vacation.is_vacation:
            pass
        elif week + dt.timedelta(days=4) < vacation.start or week > vacation.end:
            add(
                "weeks", f"{week} 这一周不在{vacation.name}（{vacation.start}至{vacation.end}）内。"
            )
    start, end = holiday_morning()
    if morning_start and morning_start > start:
        add("morning_start", f"上午应不晚于{start:%H:%M}开始（本区假期托管规定）。")
    if morning_end and morning_end < end:
        add("morning_end", f"上午应至少持续到{end:%H:%M}（本区假期托管规定）。")
    if morning_start and morning_end and morning_end <= morning_start:
        add("morning_end", "上午结束时间应晚于开始时间。")
    if bool(afternoon_start) != bool(afternoon_end):
        add("afternoon_end", "下午托管请同时填写开始和结束时间，不开展则都不填。")
    elif afternoon_start and afternoon_end:
        if morning_end and afternoon_start < morning_end:
            add("afternoon_start", "下午开始时间应不早于上午结束。")
        if afternoon_end <= afternoon_start:
            add("afternoon_end", "下午结束时间应晚于开始时间。")
    if fee_per_week is None or fee_per_week < 0:
        add("fee_per_week", "请填写每周收费（公益托管可为 0）。")
    elif fee_per_week > fee_cap():
        add(
            "fee_per_week",
            f"每周收费{fee_per_week}元超过本区上限{fee_cap()}元（每生每周）。",
        )
    if errors:
        raise ValidationError(errors)
    return {
        "capacity": capacity,
        "weeks": sorted(set(weeks)),
        "days": sorted(set(days)),
        "morning_start": morning_start,
        "morning_end": morning_end,
        "afternoon_start": afternoon_start,
        "afternoon_end": afternoon_end,
        "fee_per_week": fee_per_week,
    }


def _no_pause():
    pass


# Tests widen the window between "is it a host already?" and the insert here.
_after_exists_read = _no_pause


def school_site(school: School, *, capacity: int) -> CareSite:
    """The school's care site (a school hosting holiday care), made when missing."""
    site, _created = CareSite.objects.get_or_create(
        school=school,
        defaults={
            "kind": CareSite.Kind.SCHOOL,
            "name": school.name,
            "district_id": school.district_id,
            "capacity": capacity,
        },
    )
    return site


def host_designate(
    *,
    actor,
    vacation_id: int,
    served_school_ids,
    weeks,
    capacity: int,
    fee_per_week: Decimal,
    morning_start: dt.time,
    morning_end: dt.time,
    days=None,
    afternoon_start: dt.time | None = None,
    afternoon_end: dt.time | None = None,
    site_id: int | None = None,
    school_id: int | None = None,
    host_id: int | None = None,
    lock: bool = True,
) -> HostSite:
    """Designate a host site for a vacation (a school by ``school_id``: its care site is
    made when missing; or a care site by ``site_id``), or change one not yet open."""
    require(may_manage(actor))
    days = list(settings.HOLIDAY_CARE_WEEKDAYS) if days is None else [int(d) for d in days]
    vacation = SchoolPeriod.objects.filter(pk=vacation_id).first()
    if vacation is None:
        raise ValidationError({"vacation": "请选择假期。"})
    served = list(School.objects.filter(pk__in=list(served_school_ids or [])))
    with transaction.atomic():
        # one designation of a vacation at a time: two at once for the same site (or the
        # same school's care site, made here) would meet at a UNIQUE index as a 500
        # (tests/afterschool/test_holiday_concurrency.py; ``lock=False`` only for its control)
        if lock:
            locked(SchoolPeriod.objects.filter(pk=vacation.pk)).get()
        if host_id is not None:
            host = locked(HostSite.objects.select_related("site", "vacation")).get(pk=host_id)
            if host.status != Status.DRAFT:
                raise ValidationError(
                    {"capacity": f"托管点{host.get_status_display()}，不能再修改。"}
                )
            site = host.site
        elif site_id is not None:
            site = CareSite.objects.filter(pk=site_id, active=True).first()
            if site is None:
                raise ValidationError({"site": "请选择启用中的托管点。"})
        elif school_id is not None:
            school = School.objects.filter(pk=school_id).first()
            if school is None:
                raise ValidationError({"school": "请选择学校。"})
            site = school_site(school, capacity=max(capacity or 1, 1))
        else:
            raise ValidationError({"school": "请选择承办的学校或托管点。"})
        data = _clean(
            vacation=vacation, site=site, capacity=capacity, served=served, weeks=weeks,
            days=days, morning_start=morning_start, morning_end=morning_end,
            afternoon_start=afternoon_start, afternoon_end=afternoon_end,
            fee_per_week=fee_per_week,
        )  # fmt: skip
        if host_id is None:
            if HostSite.objects.filter(vacation=vacation, site=site).exists():
                raise ValidationError({"school": f"{site.name}已是{vacation.name}的托管点。"})
            _after_exists_read()
            host = HostSite.objects.create(vacation=vacation, site=site, by=actor, **data)
            old = None
        else:
            old = snapshot(host, FIELDS)
            for key, value in data.items():
                setattr(host, key, value)
            host.save(update_fields=FIELDS)
        host.served_schools.set(served)
        audit_record(
            actor=actor,
            action="afterschool.holiday.designated"
            if old is None
            else "afterschool.holiday.changed",
            obj=host,
            old=old,
            new={**snapshot(host, FIELDS), "served_schools": sorted(s.pk for s in served)},
        )
    return host


def _plan_for(host: HostSite) -> SchoolPlan:
    """The vacation plan of the host's school (the site's money school): approved or in
    effect, without a subject item; else refused naming the school."""
    school = School.objects.get(pk=host.site.money_school_id)
    plan = (
        SchoolPlan.objects.filter(school=school, term=host.vacation).select_related("term").first()
    )
    ok = (SchoolPlan.Status.APPROVED, SchoolPlan.Status.IN_EFFECT)
    if plan is None or plan.status not in ok:
        state = "没有" if plan is None else f"的方案{plan.get_status_display()}，没有"
        raise ValidationError(
            f"{school.name}{state}经批准的{host.vacation.name}假期托管方案，托管点不能开放。"
        )
    subjects = list(
        plan.plan_items.filter(activity=PlanItem.Activity.SUBJECT).values_list("name", flat=True)
    )
    if subjects:
        raise ValidationError(
            f"{SUBJECT_REFUSED}：{school.name}方案中的“{'”“'.join(subjects)}”为学科辅导。"
        )
    if set(host.days) - set(plan.weekdays):
        raise ValidationError(
            f"{school.name}的假期托管方案只安排了{weekdays_label(plan.weekdays)}，"
            f"托管点的服务日{weekdays_label(host.days)}超出方案。"
        )
    return plan


def activities(plan: SchoolPlan) -> list[str]:
    """A block's activities: the plan's items of the holiday kinds (never 学科辅导)."""
    return [
        f"{i.name}（{i.get_activity_display()}）"
        for i in plan.plan_items.all()
        if i.activity in HOLIDAY_ACTIVITIES
    ]


def _block_fee(host: HostSite, first: dt.date, last: dt.date, school) -> tuple[Decimal, int]:
    """Fee per lesson so that a block costs at most its fee (cut down to the cent), and the
    block's care days (host days the vacation's calendar opens)."""
    days, _note = lesson_engine.open_days(school, first, last, vacation=True)
    n = len([d for d in days if d.weekday() in host.days])
    if n == 0 or host.fee_per_week <= 0:
        return Decimal("0"), n
    return (host.fee_per_week / n).quantize(CENT, rounding=ROUND_DOWN), n


def host_open(*, actor, host_id: int) -> HostSite:
    """Open a designated host site: one published Offering (kind HOLIDAY) per week block,
    with its lessons when the plan is in effect (else the nightly run adds them)."""
    require(may_manage(actor))
    with transaction.atomic():
        host = locked(HostSite.objects.select_related("site", "vacation"), of=("self",)).get(
            pk=host_id
        )
        if host.status == Status.OPEN:
            return host
        if host.status != Status.DRAFT:
            raise ValidationError(f"托管点{host.get_status_display()}，不能再开放。")
        from afterschool.sites import open_problem

        problem = open_problem(host.site)
        if problem:
            raise ValidationError(problem)
        plan = _plan_for(host)
        school = plan.school
        served = list(host.served_schools.all())
        start, end = _hours(host)
        notes, created = [], 0
        spans = []
        for week in host.weeks:
            first, last = block_span(host, week)
            fee, care_days = _block_fee(host, first, last, school)
            if care_days == 0:
                notes.append(f"{week} 这一周没有托管日（节假日，或该年的节假日安排尚未录入）。")
            else:
                spans.append((week, first, last, fee))
        if not spans:
            # nothing to open: every week is a holiday, or its year's calendar is unknown
            # (open_days leaves such days out rather than guess around 春节)
            raise ValidationError(
                "没有可开放的托管周："
                + "".join(sorted(set(notes)))
                + "请先在“节假日与调休”中录入该年的节假日安排。"
            )
        for n, (week, first, last, fee) in enumerate(spans, start=1):
            offering = Offering.objects.create(
                school=school,
                plan=plan,
                site=host.site,
                name=f"{host.site.name}{host.vacation.name}托管第{n}周（{first:%m-%d}至{last:%m-%d}）",
                kind=Offering.Kind.HOLIDAY,
                grades=list(range(1, 10)),
                capacity=host.capacity,
                weekday=sorted(host.days)[0],
                start=start,
                end=end,
                fee_per_lesson=fee,
                starts_on=first,
                ends_on=last,
                status=Offering.Status.PUBLISHED,
            )
            offering.served_schools.set(served)
            HostWeek.objects.create(host=host, week=week, offering=offering)
            made, note = lesson_engine.lessons_generate(offering)
            created += made
            if note:
                notes.append(note)
        host.status = Status.OPEN
        host.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="afterschool.holiday.opened",
            obj=host,
            old={"status": Status.DRAFT},
            new={"status": Status.OPEN, "weeks": len(host.weeks), "lessons": created},
        )
    host.notes = sorted(set(notes))
    return host


def host_close(*, actor, host_id: int, reason: str) -> HostSite:
    """Close a host site: its blocks not yet begun stop taking enrolments (their places and
    waiting lists stay as they are, for the schools to settle; refunds follow each bill)."""
    require(may_manage(actor))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "关闭托管点必须说明原因。"})
    with transaction.atomic():
        host = locked(HostSite.objects.all()).get(pk=host_id)
        if host.status == Status.CLOSED:
            return host
        old = host.status
        ids = list(host.blocks.values_list("offering_id", flat=True))
        for offering in locked(Offering.objects.filter(pk__in=ids)).order_by("pk"):
            if offering.status == Offering.Status.PUBLISHED:
                offering.status = Offering.Status.CLOSED
                offering.save(update_fields=["status"])
        host.status = Status.CLOSED
        host.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="afterschool.holiday.closed",
            obj=host,
            old={"status": old},
            new={"status": Status.CLOSED, "reason": reason},
        )
    return host


# --- parents ---------------------------------------------------------------------------------


def enrol_week(*, user, child_id: int, offering_id: int, now=None) -> Enrolment:
    """A parent enrols a child in one week block: the holiday rules named first (a school the
    site does not serve, a subject activity), then the engine's enrolment (lock, places,
    the waiting list when the week is full, the block's bill)."""
    child = engine._parent_child(user, child_id)
    offering = (
        Offering.objects.select_related("site", "plan__term", "school")
        .filter(pk=offering_id, kind=Offering.Kind.HOLIDAY)
        .first()
    )
    if offering is None:
        raise ValidationError({"offering": "请选择假期托管周。"})
    problem = engine.whose_pupils(offering, child)
    if problem:
        raise ValidationError({"offering": problem})
    subjects = offering.plan.plan_items.filter(activity=PlanItem.Activity.SUBJECT)
    if subjects.exists():
        raise ValidationError({"offering": f"{SUBJECT_REFUSED}，该托管周暂停报名。"})
    try:
        return engine.enrol(user=user, child_id=child.pk, offering_id=offering.pk, now=now)
    except engine.AlreadyEnrolled:
        raise  # changes nothing; the page says so
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise
        raise ValidationError({"offering": exc.messages}) from None


def withdraw_week(*, user, enrolment_id: int, now=None) -> Enrolment:
    """A parent withdraws from a week block (the engine's rule: before it begins)."""
    kind = Enrolment.objects.filter(pk=enrolment_id).values_list("offering__kind", flat=True)
    if kind.first() != Offering.Kind.HOLIDAY:
        raise PermissionDenied
    return engine.withdraw(user=user, enrolment_id=enrolment_id, now=now)
