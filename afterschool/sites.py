"""Community care sites (社区托管点): the register, safety checks, operators, their courses.

Every write of the sites part is here, one service per change: it checks who may (bureau
staff of the 课后服务 line for the register, checks and accounts; the site's own operator
for its courses), validates (a ValidationError keyed by the form's field, in Chinese),
opens its transaction, locks what it changes, writes and audits in that transaction.

The gate. ``open_problem`` is asked by the engine (afterschool.lessons.term_plan_problem)
for every course with a site, before publishing, enrolling, switching and generating
lessons. A community site is shut while it is inactive, has no safety check, or its last
check is older than ``SITES_SAFETY_CHECK_MONTHS`` (default 12): a check of D is good
through D + 12 months (same day of the month; the month's last day when that day does not
exist, e.g. 2024-02-29 -> 2025-02-28), the day after it is shut. Recording a new check
reopens it at once. A school's own site (a holiday host school) is the school: no gate here.

Courses. An operator's course is an engine Offering (kind COMMUNITY) of the site's 承办学校
(its plan in effect for the current term and its collection account), at the site. It is
free (fee 0): community classrooms (社区小学堂) are run as public welfare by communities and
volunteers; a fee would need the school's fee approval, which the engine keeps for the
school's own courses. Its places are at most the site's capacity, and the published courses
of the site at overlapping times together hold at most the site's capacity (the site is one
venue). Publishing locks the partner school's row as the engine's publishing does
(operations._lock_school), so two publications at the site are serialised without a new
lock.

Lock order: School, then CareSite, then Offering (as the engine: School, then Offering).
"""

import calendar
import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from afterschool.models import (
    WEEKDAY_NAMES,
    CareSite,
    Offering,
    PlanItem,
    SchoolPlan,
    SiteOperator,
    SiteSafetyCheck,
)
from portal import evidence
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.models import School, SchoolPeriod, mask_phone
from portal.permissions import is_bureau, is_site_operator, require

LINE = "afterschool"
PERM = "afterschool.change_caresite"
MOBILE = re.compile(r"^1\d{10}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
NOTE_MAX = 500

SITE_FIELDS = (
    "name", "partner_school", "street", "community", "address", "capacity", "contact_name",
    "contact_phone",
)  # fmt: skip


# --- the gate --------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months; the month's last day when the same day does
    not exist in it."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_good_until(checked_on: dt.date | None) -> dt.date | None:
    """The last day on which a safety check of ``checked_on`` keeps the site open."""
    if checked_on is None:
        return None
    return add_months(checked_on, settings.SITES_SAFETY_CHECK_MONTHS)


def open_problem(site: CareSite, today: dt.date | None = None) -> str | None:
    """Why ``site`` may not open (its courses neither published nor enrolled), in Chinese;
    None when it may."""
    if site.kind != CareSite.Kind.COMMUNITY:
        return None
    if not site.active:
        return f"{site.name}已停用，课程暂不开放。"
    if site.safety_checked_on is None:
        return f"{site.name}尚无安全检查记录，安全检查合格前课程暂不开放。"
    today = today or timezone.localdate()
    until = check_good_until(site.safety_checked_on)
    if today > until:
        months = settings.SITES_SAFETY_CHECK_MONTHS
        return (
            f"{site.name}最近一次安全检查为 {site.safety_checked_on}，已超过{months}个月"
            f"（有效至 {until}），重新检查合格前课程暂不开放。"
        )
    return None


# --- who may ---------------------------------------------------------------------------------


def _bureau(actor) -> None:
    """Bureau staff of the 课后服务 line who may change sites; others: 403."""
    require(is_bureau(actor, line=LINE, perm=PERM))


def may_manage(user) -> bool:
    return is_bureau(user, line=LINE, perm=PERM)


def _operator(actor) -> SiteOperator:
    require(is_site_operator(actor))
    return actor.site_operator


# --- the register ----------------------------------------------------------------------------


def _text(value, field, label, limit, required=False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: f"{label}：请填写。"})
    if len(value) > limit:
        raise ValidationError({field: f"{label}：最多 {limit} 个字。"})
    return value


def _clean_site(fields: dict) -> dict:
    errors, out = {}, {}
    for field, label, limit, required in (
        ("name", "名称", 100, True), ("street", "街道", 50, True),
        ("community", "社区", 50, True), ("address", "地址", 200, True),
        ("contact_name", "联系人", 50, True),
    ):  # fmt: skip
        try:
            out[field] = _text(fields.get(field), field, label, limit, required)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    phone = re.sub(r"\s", "", fields.get("contact_phone") or "")
    if not (MOBILE.match(phone) or LANDLINE.match(phone)):
        errors["contact_phone"] = "联系电话：应为11位手机号或带区号的固定电话（如 020-12345678）。"
    out["contact_phone"] = phone
    capacity = fields.get("capacity")
    if not isinstance(capacity, int) or capacity < 1 or capacity > 32767:
        errors["capacity"] = "容纳人数：请填写 1 至 32767 之间的整数。"
    out["capacity"] = capacity
    school = fields.get("partner_school")
    if not isinstance(school, School):
        school = School.objects.filter(pk=fields.get("partner_school_id") or 0).first()
    if school is None:
        errors["partner_school"] = "承办学校：请选择本区的学校。"
    out["partner_school"] = school
    if errors:
        raise ValidationError(errors)
    return out


def site_create(*, actor, **fields) -> CareSite:
    """A community site of the 承办学校's district, open once its first safety check is
    recorded (``safety_check_record``)."""
    _bureau(actor)
    data = _clean_site(fields)
    with transaction.atomic():
        site = CareSite.objects.create(
            kind=CareSite.Kind.COMMUNITY, district_id=data["partner_school"].district_id, **data
        )
        audit_record(
            actor=actor, action="afterschool.site.created", obj=site,
            new={**snapshot(site, SITE_FIELDS), "contact_phone": mask_phone(site.contact_phone)},
        )  # fmt: skip
    return site


def _live_courses(site_id: int):
    return Offering.objects.filter(
        site_id=site_id, status__in=[Offering.Status.DRAFT, Offering.Status.PUBLISHED]
    )


def site_update(*, actor, site_id: int, **fields) -> CareSite:
    """Change a site's register entry. Its capacity never goes below the places of a live
    course, and its 承办学校 changes only while it has no live course (a course belongs to
    its school's plan and account)."""
    _bureau(actor)
    data = _clean_site(fields)
    with transaction.atomic():
        site = locked(CareSite.objects.filter(pk=site_id, kind=CareSite.Kind.COMMUNITY)).first()
        if site is None:
            raise ValidationError({"name": "该托管点不存在。"})
        errors = {}
        live = _live_courses(site.pk)
        if data["partner_school"].pk != site.partner_school_id and live.exists():
            errors["partner_school"] = "承办学校：托管点还有未结束的课程，不能更换承办学校。"
        biggest = max(live.values_list("capacity", flat=True), default=0)
        # the published courses at one time together (publish_problems' rule, kept true)
        together = max(
            (
                o.capacity + overlapping_places(o)
                for o in live.filter(status=Offering.Status.PUBLISHED).select_related("plan")
            ),
            default=0,
        )
        capacity = data["capacity"]
        if isinstance(capacity, int) and capacity < biggest:
            errors["capacity"] = f"容纳人数：托管点已有名额为{biggest}人的课程，不能少于{biggest}。"
        elif isinstance(capacity, int) and capacity < together:
            errors["capacity"] = (
                f"容纳人数：托管点同一时段已开放的课程共有{together}个名额，不能少于{together}。"
            )
        if errors:
            raise ValidationError(errors)
        old = snapshot(site, SITE_FIELDS)
        for field, value in data.items():
            setattr(site, field, value)
        site.district_id = data["partner_school"].district_id
        new = snapshot(site, SITE_FIELDS)
        if new == old:
            return site
        site.save(update_fields=[*data, "district"])
        for row in (old, new):
            row["contact_phone"] = mask_phone(row["contact_phone"])
        audit_record(actor=actor, action="afterschool.site.changed", obj=site, old=old, new=new)
    return site


def site_set_active(*, actor, site_id: int, active: bool) -> CareSite:
    """停用 / 启用 a site: a stopped site's courses neither open nor enrol (open_problem)."""
    _bureau(actor)
    with transaction.atomic():
        site = locked(CareSite.objects.filter(pk=site_id, kind=CareSite.Kind.COMMUNITY)).get()
        if site.active == active:
            return site
        site.active = active
        site.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="afterschool.site.enabled" if active else "afterschool.site.stopped",
            obj=site, old={"active": not active}, new={"active": active},
        )  # fmt: skip
    return site


def safety_check_record(
    *, actor, site_id: int, checked_on, checked_by: str, note: str = "", files=(), today=None
) -> SiteSafetyCheck:
    """Record a safety check (a new row: the history is kept). The site's last check date
    becomes the latest of its checks: a check of an earlier date entered late is kept but
    does not move it back. At most one evidence file (PDF/JPG/PNG, portal.evidence)."""
    _bureau(actor)
    today = today or timezone.localdate()
    errors = {}
    if not isinstance(checked_on, dt.date):
        errors["checked_on"] = "检查日期：请按年-月-日填写。"
    elif checked_on > today:
        errors["checked_on"] = "检查日期：不能晚于今天。"
    try:
        checked_by = _text(checked_by, "checked_by", "检查人", 50, required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        note = _text(note, "note", "检查情况", NOTE_MAX)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    files = [f for f in (files or []) if f]
    if len(files) > 1:
        errors["files"] = "检查材料：每次检查最多上传 1 个文件。"
    if errors:
        raise ValidationError(errors)
    checked = evidence.check_files(files, what="安全检查记录") if files else []
    with transaction.atomic(), evidence.storing() as write:
        site = locked(CareSite.objects.filter(pk=site_id, kind=CareSite.Kind.COMMUNITY)).first()
        if site is None:
            raise ValidationError({"checked_on": "该托管点不存在。"})
        was = open_problem(site, today)
        row = SiteSafetyCheck(
            site=site, checked_on=checked_on, checked_by=checked_by, note=note,
            recorded_by=actor,
        )  # fmt: skip
        if checked:
            item = checked[0]
            row.file_name, row.file_kind = item.name, item.kind
            row.file_size, row.file_sha256 = item.size, item.sha256
            row.file_path = write(item)
        row.save()
        old = site.safety_checked_on
        if old is None or checked_on > old:
            site.safety_checked_on = checked_on
            site.save(update_fields=["safety_checked_on"])
        audit_record(
            actor=actor, action="afterschool.site.safety_checked", obj=site,
            old={"safety_checked_on": old},
            new={"checked_on": checked_on, "checked_by": checked_by, "file": row.file_name,
                 "reopened": bool(was) and open_problem(site, today) is None},
        )  # fmt: skip
    return row


# --- operators -------------------------------------------------------------------------------


def operator_create(*, actor, site_id: int, username: str, name: str) -> tuple[SiteOperator, str]:
    """An operator account of the site; returns it and its one-time password (shown once by
    the page, never stored in clear nor audited). The same account rules as a training
    institution's (institutions.accounts: the username, the name, the initial password)."""
    from django.contrib.auth import get_user_model, password_validation
    from django.db import IntegrityError

    from institutions.accounts import _clean_name, _clean_username, initial_password

    _bureau(actor)
    errors = {}
    for clean in (lambda: _clean_name(name), lambda: _clean_username(username)):
        try:
            clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    name, username = name.strip(), username.strip()
    with transaction.atomic():
        site = locked(CareSite.objects.filter(pk=site_id, kind=CareSite.Kind.COMMUNITY)).first()
        if site is None:
            raise ValidationError({"username": "该托管点不存在。"})
        if not site.active:
            raise ValidationError({"username": f"{site.name}已停用，不能开通账号。"})
        password = initial_password()
        user = get_user_model()(username=username)
        password_validation.validate_password(password, user)
        user.set_password(password)
        try:
            with transaction.atomic():  # savepoint: the same name taken at the same moment
                user.save()
        except IntegrityError:
            raise ValidationError(
                {"username": f"登录账号“{username}”已被使用，请换一个。"}
            ) from None
        operator = SiteOperator.objects.create(user=user, site=site, name=name)
        audit_record(
            actor=actor, action="afterschool.site.operator_created", obj=operator,
            new={"site": site.pk, "username": username, "name": name},
        )  # fmt: skip
    return operator, password


def operator_deactivate(*, actor, operator_id: int) -> SiteOperator:
    """The operator no longer works at the site: the account is nobody from the next
    request on (portal.access: an inactive account row)."""
    _bureau(actor)
    with transaction.atomic():
        operator = locked(SiteOperator.objects.filter(pk=operator_id)).first()
        if operator is None:
            raise ValidationError({"operator": "该账号不存在。"})
        if not operator.active:
            return operator
        operator.active = False
        operator.save(update_fields=["active"])
        audit_record(
            actor=actor, action="afterschool.site.operator_deactivated", obj=operator,
            old={"active": True}, new={"active": False},
        )  # fmt: skip
    return operator


# --- the operator's courses ------------------------------------------------------------------


def current_plan(site: CareSite, today=None) -> SchoolPlan | None:
    """The 承办学校's plan in effect for the term going on today."""
    today = today or timezone.localdate()
    return (
        SchoolPlan.objects.filter(
            school_id=site.partner_school_id,
            status=SchoolPlan.Status.IN_EFFECT,
            term__kind=SchoolPeriod.Kind.TERM,
            term__status=SchoolPeriod.Status.ACTIVE,
            term__start__lte=today,
            term__end__gte=today,
        )
        .select_related("term")
        .first()
    )


COURSE_FIELDS = (
    "name", "plan_item", "grades", "capacity", "weekday", "start", "end", "starts_on",
    "signup_opens", "signup_closes",
)  # fmt: skip


def course_create(*, actor, people=(), today=None, **fields) -> Offering:
    """A course at the operator's site, as a draft: the 承办学校's course under its plan in
    effect for the current term, free, at most the site's capacity. ``people``: who teaches,
    from the register (afterschool.people.people_attach: the site's, the school's or the
    district's pool, each vetted today)."""
    operator = _operator(actor)
    unknown = set(fields) - set(COURSE_FIELDS)
    if unknown:
        raise ValueError(f"cannot set {unknown}")
    today = today or timezone.localdate()
    site = CareSite.objects.select_related("partner_school").get(pk=operator.site_id)
    errors = {}
    try:
        fields["name"] = _text(fields.get("name"), "name", "课程名称", 100, required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    plan = current_plan(site, today)
    if plan is None:
        errors["name"] = (
            f"承办学校{site.partner_school.name}本学期没有实施中的课后服务方案，暂不能开设课程。"
        )
    item = fields.get("plan_item")
    if item is not None and (plan is None or item.plan_id != plan.pk):
        errors["plan_item"] = "服务项目：请选择承办学校本学期方案中的项目。"
    grades = sorted(set(fields.get("grades") or []))
    if not grades or any(g < 1 or g > 9 for g in grades):
        errors["grades"] = "面向年级：请至少选择一个 1 至 9 年级。"
    fields["grades"] = grades
    capacity = fields.get("capacity")
    if not isinstance(capacity, int) or capacity < 1:
        errors["capacity"] = "名额：请填写正整数。"
    elif capacity > site.capacity:
        errors["capacity"] = f"名额：不能超过托管点容纳人数{site.capacity}人。"
    start, end = fields.get("start"), fields.get("end")
    if start and end and end <= start:
        errors["end"] = "结束时间：应晚于开始时间。"
    weekday = fields.get("weekday")
    if plan is not None and weekday is not None and weekday not in plan.weekdays:
        errors["weekday"] = f"星期：承办学校方案中没有安排周{WEEKDAY_NAMES[weekday]}的课后服务。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        offering = Offering.objects.create(
            school_id=site.partner_school_id, plan=plan, site=site,
            kind=Offering.Kind.COMMUNITY, fee_per_lesson=0, **fields,
        )  # fmt: skip
        audit_record(
            actor=actor, action="afterschool.offering.created", obj=offering,
            new={**snapshot(offering, [f for f in COURSE_FIELDS if f in fields]),
                 "site": site.pk},
        )  # fmt: skip
        if people:
            from afterschool.people import people_attach

            people_attach(offering, list(people), user=actor, today=today)
    return offering


def overlapping_places(offering: Offering) -> int:
    """The places of the site's other published courses at an overlapping weekly time."""
    others = Offering.objects.filter(
        site_id=offering.site_id,
        plan__term_id=offering.plan.term_id,
        weekday=offering.weekday,
        status=Offering.Status.PUBLISHED,
        start__lt=offering.end,
        end__gt=offering.start,
    ).exclude(pk=offering.pk)
    return sum(others.values_list("capacity", flat=True))


def publish_problems(offering: Offering) -> list[str]:
    """Why the site's course may not open: the engine's gate (term, plan, the site's own
    open_problem), the plan's weekdays, the site's capacity, and the other parts' rules on
    a course's people and fee (the parts of operations.publish_problems that fit a course
    without a school room or teacher)."""
    from afterschool import funding, people
    from afterschool.lessons import term_plan_problem

    problems = []
    gate = term_plan_problem(offering)
    if gate:
        problems.append(gate)
    if offering.weekday not in offering.plan.weekdays:
        problems.append(f"方案中没有安排周{WEEKDAY_NAMES[offering.weekday]}的课后服务。")
    site = offering.site
    taken = overlapping_places(offering)
    if taken + offering.capacity > site.capacity:
        problems.append(
            f"{site.name}容纳{site.capacity}人，同一时段已开放的课程有{taken}个名额，"
            f"本课程{offering.capacity}个名额超出容纳人数。"
        )
    problems += people.publish_problems(offering)
    problems += funding.publish_problems(offering)
    return problems


def course_publish(*, actor, offering_id: int) -> Offering:
    """The operator opens its course for enrolment and its lessons are generated on the
    承办学校's open days (afterschool.lessons.lessons_generate)."""
    from afterschool.lessons import lessons_generate
    from afterschool.operations import _lock_school

    operator = _operator(actor)
    with transaction.atomic():
        row = Offering.objects.filter(pk=offering_id, site_id=operator.site_id).first()
        if row is None:  # another site's course: as if it did not exist
            raise Http404
        # the engine's order: the school (publishing at the site serialised), the site (its
        # capacity, changed by site_update under the same lock), then the course
        _lock_school(row.school_id)
        locked(CareSite.objects.filter(pk=row.site_id)).first()
        offering = locked(
            Offering.objects.select_related("plan__term", "site", "school__district"),
            of=("self",),
        ).get(pk=offering_id)
        if offering.status == Offering.Status.PUBLISHED:
            return offering
        if offering.status != Offering.Status.DRAFT:
            raise ValidationError(f"课程{offering.get_status_display()}，不能开放报名。")
        problems = publish_problems(offering)
        if problems:
            raise ValidationError(problems)
        offering.status = Offering.Status.PUBLISHED
        offering.save(update_fields=["status"])
        created, note = lessons_generate(offering)
        audit_record(
            actor=actor, action="afterschool.offering.published", obj=offering,
            new={"lessons": created, "note": note, "site": offering.site_id},
        )  # fmt: skip
    offering.lessons_note = note
    return offering


def assignable_people(site: CareSite):
    """Whom an operator may name on a new course: the site's own register, the 承办学校's
    and the district's pool (afterschool.people.assignable, for a course not yet made)."""
    from afterschool.models import Person

    return Person.objects.filter(
        Q(site_id=site.pk)
        | Q(school_id=site.partner_school_id)
        | Q(school__isnull=True, site__isnull=True, district_id=site.district_id),
        active=True,
    ).order_by("name")


def plan_items(site: CareSite, today=None):
    plan = current_plan(site, today)
    if plan is None:
        return PlanItem.objects.none()
    return plan.plan_items.all()


def sites_with_problem(today=None):
    """Active community sites whose gate is shut by the safety check (no check, or too
    old), as a queryset: the nightly check and the dashboard share it."""
    today = today or timezone.localdate()
    months = settings.SITES_SAFETY_CHECK_MONTHS
    # good through D + months: shut when D < today - months (same day-of-month clamping,
    # checked in Python by open_problem for the rows near the boundary)
    cutoff = add_months_back(today, months)
    return CareSite.objects.filter(kind=CareSite.Kind.COMMUNITY, active=True).filter(
        Q(safety_checked_on__isnull=True) | Q(safety_checked_on__lt=cutoff)
    )


def add_months_back(today: dt.date, months: int) -> dt.date:
    """The earliest check date still good ``today``: the smallest D with
    add_months(D, months) >= today."""
    day = add_months(today, -months)
    # add_months clamps month ends: walk back while an earlier day still reaches today
    while add_months(day - dt.timedelta(days=1), months) >= today:
        day -= dt.timedelta(days=1)
    return day
