"""Every write of homework publication, feedback, surveys and inspections."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from homework.models import (
    HomeworkItem,
    HomeworkPolicy,
    HomeworkRevision,
    Inspection,
    InspectionIssue,
    ParentReport,
    Survey,
    SurveyAnswer,
    SurveyBallot,
)
from portal.access import PARENT, SCHOOL, kind_of
from portal.audit import audit_record
from portal.locks import locked
from portal.models import SchoolClass, SchoolStaff
from portal.permissions import is_bureau, require

ITEM_FIELDS = ["subject", "content", "minutes", "kind", "required", "written", "layer"]


def _no_pause():
    pass


# Tests put a pause here to widen the window between reading the day's total and writing the
# new item: the control test shows the race without the lock, the real one that the lock
# closes it (pretix's pair of concurrency tests).
_after_total_read = _no_pause


@dataclass
class DayTotal:
    counted: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.counted)


def counted_minutes_q(policy: HomeworkPolicy, prefix: str = "") -> Q:
    """The items whose minutes count toward the limit under ``policy`` (``prefix``: the
    relation's name when filtering from another model, e.g. "homework__")."""
    q = Q(**{f"{prefix}status": HomeworkItem.Status.PUBLISHED})
    if not policy.count_optional:
        q &= Q(**{f"{prefix}required": True})
    if not policy.count_non_written:
        q &= Q(**{f"{prefix}written": True})
    return q


def day_total(school_class, date: dt.date, policy: HomeworkPolicy, *, exclude=None) -> DayTotal:
    items = HomeworkItem.objects.filter(
        counted_minutes_q(policy), school_class=school_class, date=date
    )
    if exclude is not None:
        items = items.exclude(pk=exclude)
    counted = items.aggregate(total=Sum("minutes"))["total"] or 0
    return DayTotal(counted=counted, limit=policy.limit_for(school_class.grade))


def _check_limit(school_class, total: DayTotal, *, minutes: int, counts: bool, written: bool):
    # Grades 1-2: no written homework at home at all, required or optional (双减意见: 小学一、
    # 二年级不布置家庭书面作业, 可在校内适当安排巩固练习).
    if total.limit == 0 and written:
        raise ValidationError(
            {
                "written": f"{school_class.grade}年级不布置家庭书面作业（“双减”规定一、二年级"
                "书面作业在校内完成），可以改为非书面的实践作业。"
            }
        )
    if not counts:
        return
    if total.counted + minutes > total.limit:
        raise ValidationError(
            {
                "minutes": f"超过每日书面作业时长上限：本班当天已有 {total.counted} 分钟，"
                f"再加 {minutes} 分钟共 {total.counted + minutes} 分钟，"
                f"超过{school_class.grade}年级 {total.limit} 分钟的上限"
                f"（最多还可布置 {total.remaining} 分钟）。"
            }
        )


def _staff(user) -> SchoolStaff:
    """The school staff row of ``user``; anyone else is refused (403)."""
    require(kind_of(user) == SCHOOL)
    return user.school_staff


def _parent(user):
    require(kind_of(user) == PARENT)
    return user.parent


def _design_layer(school_class, layer_id, data: dict):
    """The design layer a teacher picked (作业设计库), and ``data`` taking its minutes, level
    and (when none was typed) its content: the layer's minutes count toward the limit as
    any item's. Only an approved design of the school or one shared in its district, of the
    class's grade and the item's subject."""
    from homework.design_selectors import usable_layers

    try:
        layer = usable_layers(school_class.school).filter(pk=int(layer_id)).first()
    except (TypeError, ValueError):
        layer = None
    if layer is None:
        raise ValidationError({"design_layer": "作业设计：只能选用本校或区推广的已审核作业设计。"})
    design = layer.design
    if design.grade != school_class.grade:
        raise ValidationError(
            {"design_layer": f"作业设计：该设计适用于{design.grade}年级，本班是"
             f"{school_class.grade}年级。"}
        )  # fmt: skip
    if data.get("subject") and data["subject"] != design.subject:
        raise ValidationError(
            {"design_layer": f"作业设计：该设计是{design.subject}学科，与所选学科不一致。"}
        )
    data = dict(data, subject=design.subject, minutes=layer.minutes,
                layer=layer.get_level_display())  # fmt: skip
    if not (data.get("content") or "").strip():
        data["content"] = layer.content
    return layer, data


def homework_publish(
    *, user, school_class_id: int, date: dt.date, lock: bool = True, design_layer=None, **data
) -> HomeworkItem:
    """Publish one item for a class and day, within the grade's limit; ``design_layer``: the
    id of a design layer the item is drawn from (homework/designs.py).

    The class row is locked for the transaction: two teachers publishing for one class at
    the same moment are serialised, so they cannot together push the day over the limit.
    A constant number of queries, whatever the class has already.
    """
    staff = _staff(user)
    with transaction.atomic():
        classes = SchoolClass.objects.filter(school_id=staff.school_id)
        if lock:  # lock order everywhere: the class, then its items
            classes = locked(classes, of=("self",))
        try:
            school_class = classes.get(pk=school_class_id)
        except SchoolClass.DoesNotExist:
            raise PermissionDenied from None
        layer = None
        if design_layer not in (None, ""):
            layer, data = _design_layer(school_class, design_layer, data)
        policy = HomeworkPolicy.current()
        total = day_total(school_class, date, policy)
        _after_total_read()
        counts = policy.counts(
            required=data.get("required", True), written=data.get("written", True)
        )
        _check_limit(
            school_class,
            total,
            minutes=data["minutes"],
            counts=counts,
            written=data.get("written", True),
        )
        item = HomeworkItem.objects.create(
            school_class=school_class, date=date, published_by=staff, **data
        )
        new = {k: data.get(k) for k in ITEM_FIELDS} | {"date": date}
        if layer is not None:
            from homework.design_models import DesignUse

            DesignUse.objects.create(item=item, layer=layer)
            new["design_layer"] = layer.pk
        audit_record(actor=user, action="homework.item.published", obj=item, new=new)
    return item


def may_edit(staff: SchoolStaff, item: HomeworkItem) -> bool:
    """The publisher; the class's head teacher (every subject of their class); the
    principal and 教导处 (the whole school)."""
    if staff.school_id != item.school_class.school_id:
        return False
    if staff.role in (SchoolStaff.Role.PRINCIPAL, SchoolStaff.Role.ACADEMIC):
        return True
    return item.published_by_id == staff.pk or item.school_class.head_teacher_id == staff.pk


def homework_update(*, user, item_id: int, **data) -> HomeworkItem:
    """Change a published item; the old values stay in its revisions."""
    staff = _staff(user)
    with transaction.atomic():
        item = HomeworkItem.objects.select_related("school_class").get(
            pk=item_id, school_class__school_id=staff.school_id
        )
        school_class = locked(SchoolClass.objects.filter(pk=item.school_class_id)).get()
        item = locked(HomeworkItem.objects.filter(pk=item.pk)).get()
        item.school_class = school_class
        if not may_edit(staff, item):
            raise PermissionDenied
        if item.status != HomeworkItem.Status.PUBLISHED:
            raise ValidationError("已撤回的作业不能修改。")
        before = {k: getattr(item, k) for k in ITEM_FIELDS}
        after = {k: data.get(k, before[k]) for k in ITEM_FIELDS}
        if before == after:
            return item
        policy = HomeworkPolicy.current()
        total = day_total(school_class, item.date, policy, exclude=item.pk)
        counts = policy.counts(required=after["required"], written=after["written"])
        _check_limit(
            school_class, total, minutes=after["minutes"], counts=counts, written=after["written"]
        )
        for key, value in after.items():
            setattr(item, key, value)
        item.save(update_fields=[*ITEM_FIELDS, "updated_at"])
        HomeworkRevision.objects.create(item=item, changed_by=staff, before=before, after=after)
        audit_record(actor=user, action="homework.item.changed", obj=item, old=before, new=after)
    return item


def homework_withdraw(*, user, item_id: int) -> HomeworkItem:
    staff = _staff(user)
    with transaction.atomic():
        item = HomeworkItem.objects.select_related("school_class").get(
            pk=item_id, school_class__school_id=staff.school_id
        )
        locked(SchoolClass.objects.filter(pk=item.school_class_id)).get()
        item = locked(
            HomeworkItem.objects.select_related("school_class").filter(pk=item.pk), of=("self",)
        ).get()
        if not may_edit(staff, item):
            raise PermissionDenied
        if item.status == HomeworkItem.Status.WITHDRAWN:
            return item
        item.status = HomeworkItem.Status.WITHDRAWN
        item.save(update_fields=["status", "updated_at"])
        HomeworkRevision.objects.create(
            item=item,
            changed_by=staff,
            before={"status": "published"},
            after={"status": "withdrawn"},
        )
        audit_record(actor=user, action="homework.item.withdrawn", obj=item)
    return item


def report_minutes(*, user, child_id: int, date: dt.date, minutes: int) -> ParentReport:
    """A parent's report for their own child; reporting again the same day replaces it."""
    parent = _parent(user)
    child = parent.children.select_related("school_class").filter(pk=child_id).first()
    if child is None:
        raise PermissionDenied
    if date > timezone.localdate():
        raise ValidationError({"date": "不能反馈未来日期的用时。"})
    with transaction.atomic():
        report, created = ParentReport.objects.update_or_create(
            child=child,
            date=date,
            defaults={
                "minutes": minutes,
                "school_class": child.school_class,
                "reported_by": parent,
            },
        )
        audit_record(
            actor=user,
            action="homework.report.created" if created else "homework.report.changed",
            obj=report,
            new={"date": date, "minutes": minutes},
        )
    return report


def survey_create(
    *, user, school_class_id: int, title: str, start: dt.date, end: dt.date
) -> Survey:
    """A school's anonymous survey of one of its classes' homework load."""
    staff = _staff(user)
    errors = {}
    if not (title or "").strip():
        errors["title"] = "请填写问卷标题。"
    if end < start:
        errors["end"] = "结束日期不能早于开始日期。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        school_class = SchoolClass.objects.filter(
            pk=school_class_id, school_id=staff.school_id
        ).first()
        require(school_class is not None)  # another school's class (the page shows a 404)
        survey = Survey.objects.create(
            school_class=school_class,
            title=title.strip(),
            start=start,
            end=end,
            created_by=staff,
        )
        audit_record(
            actor=user,
            action="homework.survey.created",
            obj=survey,
            new={"school_class": school_class.pk, "title": survey.title, "start": start,
                 "end": end},
        )  # fmt: skip
    return survey


def survey_answer(*, user, survey: Survey, load: str, typical_minutes: int) -> SurveyAnswer:
    """One answer per parent per survey; the answer itself names nobody (nor does its audit
    row: it records the ballot, not what was answered)."""
    parent = _parent(user)
    if not parent.children.filter(school_class=survey.school_class).exists():
        raise PermissionDenied
    today = timezone.localdate()
    if not (survey.start <= today <= survey.end):
        raise ValidationError("问卷不在填写期内。")
    try:
        with transaction.atomic():
            SurveyBallot.objects.create(survey=survey, parent=parent)
            answer = SurveyAnswer.objects.create(
                survey=survey, load=load, typical_minutes=typical_minutes
            )
            audit_record(actor=user, action="homework.survey.answered", obj=survey)
            return answer
    except IntegrityError:
        raise ValidationError("您已经填写过这份问卷，每位家长只能填写一次。") from None


def inspection_record(
    *, user, date: dt.date, summary: str, class_ids=(), issues: str = ""
) -> Inspection:
    """A school's own inspection (自查) of its homework, with the classes it looked at and
    the problems found (one a line; each can be closed later with its follow-up)."""
    staff = _staff(user)
    if not (summary or "").strip():
        raise ValidationError({"summary": "请填写检查情况。"})
    class_ids = sorted({int(pk) for pk in class_ids})
    descriptions = [line.strip() for line in (issues or "").splitlines() if line.strip()]
    with transaction.atomic():
        classes = list(SchoolClass.objects.filter(pk__in=class_ids, school_id=staff.school_id))
        require(len(classes) == len(class_ids))  # another school's class
        inspection = Inspection.objects.create(
            school_id=staff.school_id,
            level=Inspection.Level.SCHOOL,
            date=date,
            summary=summary.strip(),
            recorded_by=user,
        )
        inspection.classes.set(classes)
        InspectionIssue.objects.bulk_create(
            InspectionIssue(inspection=inspection, description=text) for text in descriptions
        )
        audit_record(
            actor=user,
            action="homework.inspection.recorded",
            obj=inspection,
            new={"date": date, "classes": class_ids, "issues": len(descriptions)},
        )
    return inspection


def inspection_issue_close(*, user, issue_id: int, follow_up: str) -> InspectionIssue:
    """The school of the inspection, or bureau staff of the homework line, close an issue
    with its follow-up."""
    if not follow_up.strip():
        raise ValidationError({"follow_up": "关闭问题前请填写整改情况。"})
    with transaction.atomic():
        issue = locked(
            InspectionIssue.objects.select_related("inspection").filter(pk=issue_id),
            of=("self",),
        ).get()
        staff = getattr(user, "school_staff", None) if kind_of(user) == SCHOOL else None
        require(
            is_bureau(user, line="homework")
            or (staff is not None and staff.school_id == issue.inspection.school_id)
        )
        if issue.closed_at is not None:
            return issue
        issue.follow_up = follow_up.strip()
        issue.closed_at = timezone.now()
        issue.save(update_fields=["follow_up", "closed_at"])
        audit_record(
            actor=user,
            action="homework.inspection_issue.closed",
            obj=issue,
            new={"follow_up": issue.follow_up},
        )
    return issue
