"""Every write of the institution register: registration, reviews, governance, suspension,
courses; each records the list colour when it changes."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from institutions import colour, search, uscc
from institutions.models import (
    AnnualReview,
    Course,
    CourseSlot,
    GovernanceStep,
    Institution,
    ListChange,
    PriceTier,
    TrainingPolicy,
)
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.permissions import is_bureau, require
from portal.schoolcalendar import CalendarUnknownDay, day_info

LINE = "institutions"
CHANGE_PERM = "institutions.change_institution"


def _may(actor, perm: str = CHANGE_PERM) -> None:
    """Bureau staff of the training-institutions line holding ``perm``; others: 403."""
    require(is_bureau(actor, line=LINE, perm=perm))


def _locked_institution(institution_id: int) -> Institution:
    return locked(Institution.objects.filter(pk=institution_id)).get()


REGISTER_FIELDS = [
    "name", "credit_code", "category", "subjects", "mode", "nature", "address", "district",
    "scale", "licence_number", "licence_issued", "licence_expires",
]  # fmt: skip


def record_colour(institution: Institution, *, when=None) -> ListChange | None:
    """Store the institution's colour (colour.refresh, in the caller's transaction) and write
    a ListChange row if it differs from the last recorded one."""
    v = colour.refresh([institution.pk])[institution.pk]
    last = institution.list_changes.order_by("-changed_at", "-id").first()
    if last is not None and last.colour == v.colour:
        return None
    return ListChange.objects.create(
        institution=institution, colour=v.colour, reasons=v.reasons,
        changed_at=when or timezone.now(),
    )  # fmt: skip


def validate_credit_code(code: str, *, override: bool, reason: str) -> str:
    code = (code or "").strip().upper()
    problem = uscc.problem(code)
    if problem and not override:
        raise ValidationError({"credit_code": problem})
    if override and not reason.strip():
        raise ValidationError({"credit_code_override_reason": "使用校验位例外时必须说明理由。"})
    return code


def institution_register(
    *, actor, override: bool = False, override_reason: str = "", instance=None, **data
) -> Institution:
    """Register an institution (the Excel import, the admin's add page). ``instance``: the
    admin's unsaved object, filled and saved here (its inlines are saved onto it after)."""
    _may(actor, "institutions.add_institution")
    if instance is not None:
        require(instance.pk is None)
    data["credit_code"] = validate_credit_code(
        data["credit_code"], override=override, reason=override_reason
    )
    if data["category"] == Institution.Category.SUBJECT:
        data.setdefault("governance", Institution.Governance.PENDING)
    with transaction.atomic():
        if Institution.objects.filter(credit_code=data["credit_code"]).exists():
            raise ValidationError({"credit_code": "该统一社会信用代码已登记。"})
        institution = instance if instance is not None else Institution()
        values = {
            "credit_code_override": override,
            "credit_code_override_reason": override_reason.strip(),
            **data,
        }
        for key, value in values.items():
            setattr(institution, key, value)
        institution.full_clean(exclude=["name_grams"])
        institution.save()
        search.refresh_grams(Institution.objects.filter(pk=institution.pk))
        audit_record(
            actor=actor,
            action="institutions.institution.registered",
            obj=institution,
            new=snapshot(institution, REGISTER_FIELDS),
        )
        if override:
            audit_record(
                actor=actor,
                action="institutions.credit_code.overridden",
                obj=institution,
                new={"code": data["credit_code"], "reason": override_reason.strip()},
            )
        record_colour(institution)
    return institution


def review_record(
    *, actor, institution_id: int, year: int, result: str, date: dt.date, note: str = ""
) -> AnnualReview:
    _may(actor)
    with transaction.atomic():
        institution = _locked_institution(institution_id)
        review, created = AnnualReview.objects.update_or_create(
            institution=institution, year=year,
            defaults={"result": result, "date": date, "note": note},
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="institutions.review.recorded",
            obj=institution,
            new={"year": year, "result": result, "date": date},
        )
        record_colour(institution)
    return review


def governance_move(*, actor, institution_id: int, to: str, date: dt.date, note: str):
    """营转非 / 剥离 / 注销, one allowed step at a time, with its date and note, audited."""
    to = Institution.Governance(to)
    if not note.strip():
        raise ValidationError({"note": "请填写本步骤的说明（如批准文号、办理情况）。"})
    _may(actor)
    with transaction.atomic():
        institution = _locked_institution(institution_id)
        current = Institution.Governance(institution.governance)
        if current == to:
            return institution
        if to not in Institution.GOVERNANCE_TRANSITIONS[current]:
            raise ValidationError(
                {"to": f"当前状态为“{current.label}”，不能直接变为“{to.label}”。"}
            )
        GovernanceStep.objects.create(
            institution=institution,
            from_status=current,
            to_status=to,
            date=date,
            note=note.strip(),
            actor=actor,
        )
        institution.governance = to
        fields = ["governance", "updated_at"]
        if to == Institution.Governance.CONVERTED:
            institution.nature = Institution.Nature.NON_PROFIT
            fields.append("nature")
        institution.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=f"institutions.governance.{to.value}",
            obj=institution,
            old={"governance": current},
            new={"governance": to, "note": note.strip()},
        )
        record_colour(institution)
    return institution


def institution_suspend(*, actor, institution_id: int, reason: str):
    if not reason.strip():
        raise ValidationError({"reason": "暂停办学必须说明原因。"})
    _may(actor)
    with transaction.atomic():
        institution = _locked_institution(institution_id)
        old = institution.suspended_reason
        institution.suspended_reason = reason.strip()
        institution.suspended_at = timezone.now()
        institution.save(update_fields=["suspended_reason", "suspended_at", "updated_at"])
        audit_record(
            actor=actor,
            action="institutions.institution.suspended",
            obj=institution,
            old={"reason": old},
            new={"reason": institution.suspended_reason},
        )
        record_colour(institution)
    return institution


def institution_resume(*, actor, institution_id: int):
    _may(actor)
    with transaction.atomic():
        institution = _locked_institution(institution_id)
        if not institution.suspended_reason:
            return institution
        old = institution.suspended_reason
        institution.suspended_reason = ""
        institution.suspended_at = None
        institution.save(update_fields=["suspended_reason", "suspended_at", "updated_at"])
        audit_record(
            actor=actor,
            action="institutions.institution.resumed",
            obj=institution,
            old={"reason": old},
        )
        record_colour(institution)
    return institution


# --- the admin's change page: the same door -----------------------------------------------


def institution_change(*, actor, institution: Institution, changed: list[str]) -> Institution:
    """Save the admin's edit of a registered institution (``changed``: the fields the form
    changed), with the register's checks: the credit code's check character (or an override
    with its reason), the model's validation; audited, the name's search grams refreshed."""
    _may(actor)
    require(institution.pk is not None)
    if "credit_code" in changed or "credit_code_override" in changed:
        institution.credit_code = validate_credit_code(
            institution.credit_code,
            override=institution.credit_code_override,
            reason=institution.credit_code_override_reason,
        )
    with transaction.atomic():
        before = (
            locked(Institution.objects.filter(pk=institution.pk)).values("pk", *changed).first()
        )
        require(before is not None)
        institution.full_clean(exclude=["name_grams"])
        institution.save()
        if "name" in changed:
            search.refresh_grams(Institution.objects.filter(pk=institution.pk))
        audit_record(
            actor=actor,
            action="institutions.institution.changed",
            obj=institution,
            old={name: before[name] for name in changed},
            new={name: getattr(institution, name) for name in changed},
        )
        if institution.credit_code_override and "credit_code_override" in changed:
            audit_record(
                actor=actor,
                action="institutions.credit_code.overridden",
                obj=institution,
                new={"code": institution.credit_code,
                     "reason": institution.credit_code_override_reason},
            )  # fmt: skip
        record_colour(institution)
    return institution


def institution_inline_save(*, actor, institution: Institution, formset) -> list:
    """Save one of the admin's inline formsets of an institution (its supervised account,
    its annual reviews), each added, changed or deleted row audited; then record the list
    colour, which those rows decide."""
    _may(actor)
    require(institution.pk is not None)
    with transaction.atomic():
        _locked_institution(institution.pk)
        saved = formset.save()
        model = formset.model._meta.model_name
        rows = [("added", obj, None) for obj in formset.new_objects]
        rows += [("changed", obj, fields) for obj, fields in formset.changed_objects]
        rows += [("deleted", obj, None) for obj in formset.deleted_objects]
        for verb, obj, fields in rows:
            audit_record(
                actor=actor,
                action=f"institutions.{model}.{verb}",
                obj=institution,
                new={"id": obj.pk, "fields": list(fields or [])},
            )
        record_colour(institution)
    return saved


def institutions_delete(*, actor, institution_ids) -> int:
    """Delete institutions (the admin's delete and bulk delete), each audited."""
    _may(actor, "institutions.delete_institution")
    with transaction.atomic():
        institutions = list(
            locked(Institution.objects.filter(pk__in=list(institution_ids))).order_by("pk")
        )
        for institution in institutions:
            audit_record(
                actor=actor,
                action="institutions.institution.deleted",
                obj=institution,
                old=snapshot(institution, REGISTER_FIELDS),
            )
        Institution.objects.filter(pk__in=[i.pk for i in institutions]).delete()
    return len(institutions)


def register_exported(*, actor, count: int) -> None:
    """Record that ``actor`` downloaded the register (``count`` institutions)."""
    _may(actor, "institutions.view_institution")
    with transaction.atomic():
        audit_record(actor=actor, action="institutions.register.exported", new={"count": count})


# --- courses: price caps and training times -------------------------------------------------


def price_cap(
    *, class_size: int, lesson_minutes: int, mode: str, policy: TrainingPolicy | None = None
) -> Decimal | None:
    """The highest price allowed per student per lesson: the tier's standard-lesson price,
    pro rata to the lesson's length, plus the float. None: no tier covers this class size."""
    policy = policy or TrainingPolicy.current()
    tier = PriceTier.objects.filter(min_size__lte=class_size, max_size__gte=class_size).first()
    if tier is None:
        return None
    standard = (
        policy.standard_minutes_online
        if mode == Institution.Mode.ONLINE
        else policy.standard_minutes_offline
    )
    base = tier.cap * Decimal(lesson_minutes) / Decimal(standard)
    capped = base * (Decimal(100) + policy.price_float_percent) / Decimal(100)
    return capped.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _slot_problems(course: Course, slots, policy: TrainingPolicy) -> list[str]:
    problems = []
    latest = (
        policy.latest_end_online
        if course.mode == Institution.Mode.ONLINE
        else policy.latest_end_offline
    )
    online = course.mode == Institution.Mode.ONLINE
    for slot in slots:
        if slot.end <= slot.start:
            problems.append(f"周{'一二三四五六日'[slot.weekday]}的下课时间应晚于上课时间。")
            continue
        if course.is_subject_type and slot.end > latest:
            problems.append(
                f"学科类培训{'线上' if online else '线下'}须在 {latest:%H:%M} 前结束，"
                f"周{'一二三四五六日'[slot.weekday]} {slot.start:%H:%M}-{slot.end:%H:%M} 超时。"
            )
    if online and course.is_subject_type:
        if course.lesson_minutes > policy.online_lesson_max_minutes:
            problems.append(f"线上学科类每课时不超过 {policy.online_lesson_max_minutes} 分钟。")
        by_day = {}
        for slot in sorted(slots, key=lambda s: (s.weekday, s.start)):
            previous = by_day.get(slot.weekday)
            if previous is not None:
                gap = dt.datetime.combine(dt.date.min, slot.start) - dt.datetime.combine(
                    dt.date.min, previous.end
                )
                if gap < dt.timedelta(minutes=policy.online_break_minutes):
                    problems.append(
                        f"线上课程两节课之间至少间隔 {policy.online_break_minutes} "
                        f"分钟（周{'一二三四五六日'[slot.weekday]}）。"
                    )
            by_day[slot.weekday] = slot
    return problems


def _day_problem(course: Course, day: dt.date, district, policy: TrainingPolicy) -> str | None:
    """Why a subject-type lesson may not fall on ``day`` (holiday, rest day, vacation)."""
    try:
        info = day_info(day, district)
    except CalendarUnknownDay as exc:
        return f"无法核对 {day} 是否可以上课：{exc}"
    rest = info.rest_day or (
        info.makeup_workday and policy.makeup_saturday_is_rest_day and day.weekday() >= 5
    )
    if info.holiday:
        return f"学科类培训不得在法定节假日上课：{day}（{info.holiday_name}）有课。"
    if rest:
        return f"学科类培训不得在休息日上课：{day}（周{'一二三四五六日'[day.weekday()]}）有课。"
    if info.vacation:
        return f"学科类培训不得在寒暑假上课：{day} 在假期内。"
    return None


def _calendar_problems(course: Course, slots, district, policy: TrainingPolicy) -> list[str]:
    """A subject-type lesson may not fall on a statutory holiday, a rest day or a vacation."""
    if not course.is_subject_type:
        return []
    weekdays = {s.weekday for s in slots}
    day = course.term_start
    while day <= course.term_end:
        if day.weekday() in weekdays:
            problem = _day_problem(course, day, district, policy)
            if problem:
                return [problem]
        day += dt.timedelta(days=1)
    return []


def lesson_problems(course: Course, day: dt.date, start: dt.time, end: dt.time) -> list[str]:
    """What forbids one lesson of ``course`` on ``day`` from ``start`` to ``end`` (a claimed
    lesson, 消课): the training-time rules of course_save applied to that one lesson."""
    policy = TrainingPolicy.current()
    slot = CourseSlot(course=course, weekday=day.weekday(), start=start, end=end)
    problems = _slot_problems(course, [slot], policy)
    if not problems and course.is_subject_type:
        problem = _day_problem(course, day, course.institution.district, policy)
        if problem:
            problems.append(problem)
    return problems


def _course_apply(course: Course, institution: Institution, slots: list[dict], data: dict):
    """Fill ``course`` with ``data`` and judge it with its slots by course_save's rules:
    the price cap, the training times, the calendar; every problem named, by field. Returns
    the unsaved slot objects."""
    policy = TrainingPolicy.current()
    for key, value in data.items():
        setattr(course, key, value)
    slot_objs = [CourseSlot(course=course, **s) for s in slots]
    errors: dict[str, list[str]] = {}
    if course.term_end and course.term_start and course.term_end < course.term_start:
        errors.setdefault("term_end", []).append("结课日期不能早于开课日期。")
    cap = price_cap(
        class_size=course.class_size,
        lesson_minutes=course.lesson_minutes,
        mode=course.mode,
        policy=policy,
    )
    if cap is None:
        errors.setdefault("class_size", []).append(
            f"班额 {course.class_size} 人不在政府指导价的任何档次内。"
        )
    elif course.price_per_lesson > cap:
        errors.setdefault("price_per_lesson", []).append(
            f"超过政府指导价：{course.class_size}人班、每课时{course.lesson_minutes}分钟，"
            f"上限为 {cap} 元（含上浮{policy.price_float_percent.normalize()}%）。"
        )
    if not slot_objs:
        errors.setdefault("slots", []).append("请至少填写一个上课时间。")
    problems = _slot_problems(course, slot_objs, policy)
    if not errors and not problems:
        problems = _calendar_problems(course, slot_objs, institution.district, policy)
    if problems:
        errors.setdefault("slots", []).extend(problems)
    if errors:
        raise ValidationError(errors)
    return slot_objs


def course_save(
    *, actor, institution: Institution, slots: list[dict], course: Course | None = None, **data
) -> Course:
    """Create or change a course with its weekly slots (bureau staff); refused, with the rule
    named, when the price is over the cap or a lesson falls at a forbidden time. A course the
    bureau makes is approved (已备案) as made; a change keeps its filing state."""
    _may(actor)
    course = course or Course(institution=institution, filing=Course.Filing.APPROVED)
    slot_objs = _course_apply(course, institution, slots, data)
    with transaction.atomic():
        created = course.pk is None
        course.save()
        course.slots.all().delete()
        CourseSlot.objects.bulk_create(slot_objs)
        audit_record(
            actor=actor,
            action="institutions.course.created" if created else "institutions.course.changed",
            obj=course,
            new={**{k: v for k, v in data.items()}, "slots": slots},
        )
    return course


# --- courses filed by the institution (备案) ------------------------------------------------

FILING_FIELDS = [
    "name", "subject", "mode", "lesson_minutes", "class_size", "price_per_lesson",
    "term_start", "term_end",
]  # fmt: skip


def _slot_key(slots) -> list:
    return sorted((s["weekday"], s["start"], s["end"]) for s in slots)


def course_file(
    *, actor, slots: list[dict], course_id: int | None = None, submit: bool = True, **data
) -> Course:
    """The institution (its 管理员 or 教务) files a course of its own with its weekly slots:
    judged by course_save's rules, then 待备案 (``submit``) or kept as a draft. A change to
    an approved course files it again (待备案: not sold until approved again); saving what
    is already there changes nothing. Refused while the institution may not sell (black
    list, suspended: institutions.accounts.selling_refusal)."""
    from institutions.accounts import selling_refusal
    from portal.permissions import is_institution_staff

    require(is_institution_staff(actor, roles=["admin", "desk"]))
    institution_id = actor.institution_staff.institution_id
    F = Course.Filing
    unknown = set(data) - set(FILING_FIELDS)
    require(not unknown)
    with transaction.atomic():
        institution = Institution.objects.select_related("district").get(pk=institution_id)
        refusal = selling_refusal(institution)
        if refusal:
            raise ValidationError({"institution": f"{refusal}不能提交课程备案。"})
        if course_id is None:
            course = Course(institution=institution)
            old = None
        else:
            # lock the course: a decision of the bureau and a change do not cross
            course = locked(Course.objects.filter(pk=course_id, institution=institution)).first()
            require(course is not None)
            old = {
                **snapshot(course, FILING_FIELDS),
                "slots": _slot_key(
                    {"weekday": s.weekday, "start": s.start, "end": s.end}
                    for s in course.slots.all()
                ),
            }
        slot_objs = _course_apply(course, institution, slots, data)
        new = {**snapshot(course, FILING_FIELDS), "slots": _slot_key(slots)}
        target = F.SUBMITTED if submit else F.DRAFT
        if old is not None and old == new:
            if course.filing == target or course.filing == F.APPROVED:
                return course  # nothing changed: an approved course stays approved
            if course.filing == F.SUBMITTED and not submit:
                return course  # a draft save does not take a filing back
        previous = course.filing if old is not None else None
        course.filing = target
        course.filing_reason = ""
        course.filed_at = timezone.now() if submit else course.filed_at
        course.save()
        course.slots.all().delete()
        CourseSlot.objects.bulk_create(slot_objs)
        audit_record(
            actor=actor,
            action="institutions.course.filed" if submit else "institutions.course.drafted",
            obj=course,
            old={"filing": previous, **(old or {})} if old else None,
            new={"filing": target, **new},
        )
        if submit:
            from portal.notices import line_staff, notify

            notify(
                line_staff(LINE),
                key=f"course:{course.pk}:filed:{course.filed_at.isoformat()}",
                message=f"{institution.name}提交了课程“{course.name}”的备案，请审核。",
                url="/org/bureau/filings/",
            )
    return course


def course_filing_decide(*, actor, course_id: int, approve: bool, reason: str = "") -> Course:
    """Bureau staff approve a filed course (已备案: it may be sold) or return it with the
    reason (退回); the institution's 管理员 and 教务 are told in their inbox."""
    from institutions.account_models import InstitutionStaff
    from portal.notices import notify

    _may(actor)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": "退回时请填写理由，告诉机构需要修改什么。"})
    if len(reason) > 500:
        raise ValidationError({"reason": "理由最多 500 个字。"})
    F = Course.Filing
    with transaction.atomic():
        course = locked(Course.objects.filter(pk=course_id)).get()
        target = F.APPROVED if approve else F.RETURNED
        if course.filing == target and course.filing_reason == (reason if not approve else ""):
            return course
        if course.filing != F.SUBMITTED:
            raise ValidationError(
                {"course": f"课程“{course.name}”当前为“{course.get_filing_display()}”，"
                 "不在待备案状态，不能审核。"}
            )  # fmt: skip
        course.filing = target
        course.filing_reason = "" if approve else reason
        course.save(update_fields=["filing", "filing_reason"])
        audit_record(
            actor=actor,
            action="institutions.course.approved" if approve else "institutions.course.returned",
            obj=course,
            old={"filing": F.SUBMITTED},
            new={"filing": target, "reason": course.filing_reason},
        )
        users = InstitutionStaff.objects.filter(
            institution_id=course.institution_id, active=True, role__in=["admin", "desk"]
        ).values_list("user_id", flat=True)
        notify(
            list(users),
            key=f"course:{course.pk}:{target}:{course.filed_at or ''}",
            message=(
                f"课程“{course.name}”已通过备案，可以招生收费。"
                if approve
                else f"课程“{course.name}”备案被退回：{reason}"
            ),
            url=f"/org/courses/{course.pk}/",
        )
    return course
