"""一校一案: every write of a school's after-school plan for a term.

A school (principal or 教导处) drafts and submits; bureau staff of 课后服务 approve or return
with a reason, then put the plan in effect and close it. Every move goes through
``SchoolPlan.TRANSITIONS`` on a locked row and leaves an audit row "afterschool.plan.<verb>"
in the same transaction.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from afterschool.models import WEEKDAY_NAMES, AfterschoolPolicy, PlanItem, SchoolPlan
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.models import SchoolPeriod, SchoolStaff
from portal.permissions import is_bureau, is_school_manager

Status = SchoolPlan.Status
PLAN_FIELDS = ["term", "weekdays", "start_time", "end_time", "items"]
# Only those who answer for the school's plan may write it; other staff read it.
EDITOR_ROLES = SchoolStaff.MANAGER_ROLES
EDITABLE = {Status.DRAFT, Status.RETURNED}
DECIDE_PERM = "afterschool.change_schoolplan"
# plans are filed only for a term not yet begun or running, and take effect only in a
# running one
FILING_TERMS = [SchoolPeriod.Status.DRAFT, SchoolPeriod.Status.ACTIVE]


def term_closed_message(term: SchoolPeriod) -> str:
    return f"{term.name}已{term.get_status_display()}，不能再报送或审批课后服务方案。"


def _term_open(plan: SchoolPlan):
    if plan.term.status not in FILING_TERMS:
        raise ValidationError({"term": term_closed_message(plan.term)})


def _term_active(plan: SchoolPlan):
    if plan.term.status != SchoolPeriod.Status.ACTIVE:
        raise ValidationError(
            {
                "term": f"{plan.term.name}{plan.term.get_status_display()}，"
                f"方案只能在{'假期' if plan.term.is_vacation else '学期'}进行中实施。"
            }
        )


def may_edit(user, plan: SchoolPlan | None = None) -> bool:
    """A principal or 教导处 (EDITOR_ROLES) of the plan's school (of their own school for a
    new plan)."""
    return is_school_manager(user, None if plan is None else plan.school_id)


def may_decide(user) -> bool:
    """Bureau staff of 课后服务 holding the decision permission."""
    return is_bureau(user, line="afterschool", perm=DECIDE_PERM)


def weekdays_label(weekdays) -> str:
    return "、".join(f"周{WEEKDAY_NAMES[d]}" for d in sorted(weekdays))


def holiday_morning() -> tuple[dt.time, dt.time]:
    return (
        dt.time.fromisoformat(settings.HOLIDAY_CARE_MORNING_START),
        dt.time.fromisoformat(settings.HOLIDAY_CARE_MORNING_END),
    )


SUBJECT_REFUSED = "假期托管不得组织集体补课"


def vacation_problems(plan: SchoolPlan) -> dict:
    """What keeps a vacation plan (假期托管) from being submitted: the holiday defaults instead
    of 5+2 (settings, the national practice of 暑期托管): days among HOLIDAY_CARE_WEEKDAYS
    (Mon–Fri), a morning covering HOLIDAY_CARE_MORNING_START–END (8:30–11:30) at least, and no
    subject lessons (a plan item of activity 学科辅导: 不得组织集体补课)."""
    errors: dict[str, list[str]] = {}
    allowed = set(settings.HOLIDAY_CARE_WEEKDAYS)
    outside = sorted(set(plan.weekdays or []) - allowed)
    if outside:
        errors.setdefault("weekdays", []).append(
            f"假期托管只在{weekdays_label(allowed)}开展，方案中有{weekdays_label(outside)}。"
        )
    morning_start, morning_end = holiday_morning()
    if plan.start_time > morning_start:
        errors.setdefault("start_time", []).append(
            f"假期托管上午应不晚于{morning_start:%H:%M}开始，方案为{plan.start_time:%H:%M}。"
        )
    if plan.end_time < morning_end:
        errors.setdefault("end_time", []).append(
            f"假期托管上午应至少持续到{morning_end:%H:%M}，方案为{plan.end_time:%H:%M}结束。"
        )
    subjects = [i.name for i in plan.plan_items.all() if i.activity == PlanItem.Activity.SUBJECT]
    if subjects:
        errors.setdefault("items", []).append(
            f"{SUBJECT_REFUSED}：服务项目“{'”“'.join(subjects)}”为学科辅导。"
        )
    if not plan.items.strip():
        errors.setdefault("items", []).append("请填写服务内容。")
    return errors


def plan_problems(plan: SchoolPlan, policy: AfterschoolPolicy | None = None) -> dict:
    """What keeps ``plan`` from being submitted, keyed by field, each message naming the
    rule and the numbers (5+2: 教育部 2021 年《关于进一步做好中小学生课后服务工作的指导意见》:
    每周 5 天、每天不少于 2 小时、结束时间与当地正常下班时间相衔接; the numbers are the
    district's, in AfterschoolPolicy). A vacation plan has its own rules
    (``vacation_problems``)."""
    if plan.term.is_vacation:
        return vacation_problems(plan)
    policy = policy or AfterschoolPolicy.current()
    errors: dict[str, list[str]] = {}
    days = len(set(plan.weekdays or []))
    if days < policy.min_days:
        errors.setdefault("weekdays", []).append(f"每周只安排了{days}天，至少{policy.min_days}天。")
    minutes = plan.minutes_per_day
    if minutes < policy.min_minutes_per_day:
        errors.setdefault("end_time", []).append(
            f"每天只有{max(minutes, 0)}分钟，至少{policy.min_minutes_per_day}分钟。"
        )
    if plan.end_time < policy.off_work_time:
        errors.setdefault("end_time", []).append(
            f"{plan.end_time:%H:%M}结束，早于本区下班时间{policy.off_work_time:%H:%M}。"
        )
    if not plan.items.strip():
        errors.setdefault("items", []).append("请填写服务内容。")
    return errors


def _clean_input(*, school, term, weekdays, start_time, end_time) -> list[int]:
    errors: dict[str, list[str]] = {}
    days = sorted({int(d) for d in weekdays or []})
    if not days:
        errors.setdefault("weekdays", []).append("请选择服务日。")
    elif days[0] < 0 or days[-1] > 6:
        errors.setdefault("weekdays", []).append("服务日应为周一至周日。")
    if term.district_id != school.district_id:
        errors.setdefault("term", []).append("请选择本区的学期或假期。")
    elif term.status not in FILING_TERMS:
        errors.setdefault("term", []).append(term_closed_message(term))
    if start_time and end_time and end_time <= start_time:
        errors.setdefault("end_time", []).append("结束时间应晚于开始时间。")
    if errors:
        raise ValidationError(errors)
    return days


def plan_save(
    *,
    actor,
    term: SchoolPeriod,
    weekdays,
    start_time: dt.time,
    end_time: dt.time,
    items: str = "",
    plan_id: int | None = None,
) -> SchoolPlan:
    """Create the actor's school's plan for ``term``, or change a draft or returned plan."""
    if not may_edit(actor):
        raise PermissionDenied
    school = actor.school_staff.school
    days = _clean_input(
        school=school, term=term, weekdays=weekdays, start_time=start_time, end_time=end_time
    )
    data = {
        "term": term,
        "weekdays": days,
        "start_time": start_time,
        "end_time": end_time,
        "items": (items or "").strip(),
    }
    try:
        with transaction.atomic():
            if plan_id is None:
                plan = SchoolPlan.objects.create(school=school, **data)
                old = None
            else:
                # the lock keeps a save from racing a submit of the same plan
                plan = locked(SchoolPlan.objects.filter(pk=plan_id)).get()
                if not may_edit(actor, plan):
                    raise PermissionDenied
                if plan.status not in EDITABLE:
                    raise ValidationError(
                        {"status": f"方案{plan.get_status_display()}，不能再修改。"}
                    )
                old = snapshot(plan, PLAN_FIELDS)
                for key, value in data.items():
                    setattr(plan, key, value)
                plan.save(update_fields=[*PLAN_FIELDS, "updated_at"])
            audit_record(
                actor=actor,
                action="afterschool.plan.created" if old is None else "afterschool.plan.changed",
                obj=plan,
                old=old,
                new=snapshot(plan, PLAN_FIELDS),
            )
    except IntegrityError:
        # as_one_plan_per_term: one plan a school a term
        raise ValidationError({"term": f"本校已有{term.name}的课后服务方案。"}) from None
    return plan


def _move(*, actor, plan_id: int, to: str, verb: str, before=None, reason: str = ""):
    to = Status(to)
    with transaction.atomic():
        # of=self: lock the plan row only, not the school and term read with it
        plan = locked(SchoolPlan.objects.select_related("school", "term"), of=("self",)).get(
            pk=plan_id
        )
        current = Status(plan.status)
        if current == to:
            return plan
        if to not in SchoolPlan.TRANSITIONS[current]:
            raise ValidationError(
                {"status": f"方案当前为“{current.label}”，不能变为“{to.label}”。"}
            )
        if before is not None:
            before(plan)
        plan.status = to
        fields = ["status", "updated_at"]
        if to == Status.RETURNED:
            plan.return_reason = reason
            fields.append("return_reason")
        elif to == Status.SUBMITTED and plan.return_reason:
            plan.return_reason = ""  # the reason stays in the audit row of the return
            fields.append("return_reason")
        plan.save(update_fields=fields)
        new = {"status": to}
        if reason:
            new["reason"] = reason
        audit_record(
            actor=actor,
            action=f"afterschool.plan.{verb}",
            obj=plan,
            old={"status": current},
            new=new,
        )
    return plan


def plan_submit(*, actor, plan_id: int) -> SchoolPlan:
    """Submit to the bureau; refused, with the rules it misses, when short of 5+2."""

    def check(plan):
        if not may_edit(actor, plan):
            raise PermissionDenied
        _term_open(plan)
        problems = plan_problems(plan)
        if problems:
            raise ValidationError(problems)

    return _move(actor=actor, plan_id=plan_id, to=Status.SUBMITTED, verb="submitted", before=check)


def _require_decider(actor):
    if not may_decide(actor):
        raise PermissionDenied


def plan_decide(*, actor, plan_id: int, approve: bool, reason: str = "") -> SchoolPlan:
    """Approve, or return with a reason the school reads."""
    _require_decider(actor)
    if approve:
        return _move(
            actor=actor, plan_id=plan_id, to=Status.APPROVED, verb="approved", before=_term_open
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "退回方案时必须说明原因。"})
    with transaction.atomic():
        plan = _move(
            actor=actor, plan_id=plan_id, to=Status.RETURNED, verb="returned", reason=reason
        )
        from portal.notices import notify

        editors = SchoolStaff.objects.filter(school_id=plan.school_id, role__in=EDITOR_ROLES)
        notify(
            editors.values_list("user_id", flat=True),
            key=f"plan:{plan.pk}:returned:{plan.updated_at:%Y%m%d%H%M%S%f}",
            message=f"课后服务方案（{plan.term.name}）被退回：{reason[:200]}",
            url=f"/afterschool/plans/{plan.pk}/",
        )
    return plan


def plan_start(*, actor, plan_id: int) -> SchoolPlan:
    _require_decider(actor)
    return _move(
        actor=actor, plan_id=plan_id, to=Status.IN_EFFECT, verb="started", before=_term_active
    )


def plan_close(*, actor, plan_id: int) -> SchoolPlan:
    _require_decider(actor)
    return _move(actor=actor, plan_id=plan_id, to=Status.CLOSED, verb="closed")


def plan_item_save(*, actor, plan_id: int, name: str, activity: str, teachers: int = 1) -> PlanItem:
    """Add an item to a draft or returned plan of the actor's school (the activity named: a
    vacation plan refuses 学科辅导, 不得组织集体补课)."""
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors.setdefault("name", []).append("请填写服务项目。")
    if activity not in PlanItem.Activity.values:
        errors.setdefault("activity", []).append("请选择活动类型。")
    if not isinstance(teachers, int) or teachers < 1:
        errors.setdefault("teachers", []).append("计划教师人数至少为 1。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = locked(SchoolPlan.objects.select_related("term").filter(pk=plan_id)).first()
        if plan is None or not may_edit(actor, plan):
            raise PermissionDenied
        if plan.status not in EDITABLE:
            raise ValidationError({"name": f"方案{plan.get_status_display()}，不能再修改。"})
        if plan.term.is_vacation and activity == PlanItem.Activity.SUBJECT:
            raise ValidationError(
                {"activity": f"{SUBJECT_REFUSED}：假期托管方案不能安排学科辅导。"}
            )
        if plan.plan_items.filter(name=name).exists():
            raise ValidationError({"name": f"方案中已有服务项目“{name}”。"})
        item = PlanItem.objects.create(plan=plan, name=name, activity=activity, teachers=teachers)
        audit_record(
            actor=actor,
            action="afterschool.plan.item_added",
            obj=plan,
            new={"item": name, "activity": activity, "teachers": teachers},
        )
    return item
