"""Every write of the homework design library (作业设计库) and its review, and its search index.

- The principal keeps the school's review group (作业审核小组): ``reviewer_designate`` /
  ``reviewer_remove``.
- A teacher submits a design (grade, subject, unit, layers 基础 / 提高 / 拓展 each with its
  minutes): ``design_submit``; a returned design is corrected and submitted again by its
  author: ``design_resubmit``.
- A member of the school's review group approves or returns it with a comment:
  ``design_review`` (not the author, unless HOMEWORK_DESIGN_AUTHOR_MAY_REVIEW).
- Bureau staff of the homework line share an approved design district-wide (选优推广):
  ``design_share``.

Each service locks the design row, re-reads its state, checks the transition against
HomeworkDesign.TRANSITIONS, writes and audits in one transaction. Search reuses the case
library's tokenizer and BM25 (cases/search.py) over DesignTerm.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from cases import search as case_search
from homework.design_models import DesignLayer, DesignTerm, HomeworkDesign, ReviewMember
from homework.models import SUBJECTS
from portal import designations
from portal.access import SCHOOL, kind_of
from portal.audit import audit_record
from portal.locks import locked
from portal.models import SchoolStaff
from portal.permissions import is_bureau, is_principal, require

S = HomeworkDesign.Status
Level = DesignLayer.Level
SHARE_PERM = "homework.change_homeworkdesign"

# the design library's own index, searched as the case library's (cases/search.py)
INDEX = case_search.TermIndex(
    docs="homework_homeworkdesign", terms="homework_designterm", fk="design_id",
    date="approved_on", text_fields=("title", "unit"),
)  # fmt: skip


def _staff(user) -> SchoolStaff:
    require(kind_of(user) == SCHOOL)
    return user.school_staff


def is_reviewer(user) -> bool:
    if kind_of(user) != SCHOOL:
        return False
    staff = user.school_staff
    return ReviewMember.objects.filter(staff=staff, school_id=staff.school_id).exists()


def may_share(user) -> bool:
    return is_bureau(user, "homework", SHARE_PERM)


# --- the index -------------------------------------------------------------------------------


def _index(design: HomeworkDesign, layers) -> None:
    """Segment the design (title, unit, subject, grade, layers) and rebuild its index rows."""
    body = " ".join(
        [design.unit, design.subject, f"{design.grade}年级"]
        + [f"{layer.get_level_display()} {layer.content}" for layer in layers]
    )
    design.search_title = case_search.segmented(design.title)
    design.search_body = case_search.segmented(body)
    design.search_length = case_search.indexed_length(design.search_title, design.search_body)
    design.save(update_fields=["search_title", "search_body", "search_length"])
    DesignTerm.objects.filter(design=design).delete()
    counts = case_search.term_counts(design.search_title, design.search_body)
    DesignTerm.objects.bulk_create(
        DesignTerm(design=design, term=t, tf=n, dl=design.search_length) for t, n in counts.items()
    )


def search(queryset, text: str):
    """(ranked designs, mode) as cases.search.search, over the designs' index."""
    return case_search.search(queryset, text, INDEX)


# --- the review group ------------------------------------------------------------------------


def reviewer_designate(*, actor, staff_id) -> ReviewMember:
    require(is_principal(actor))
    return designations.designate(
        ReviewMember, actor=actor, staff_id=staff_id, action="homework.design.reviewer_added"
    )


def reviewer_remove(*, actor, staff_id) -> None:
    require(is_principal(actor))
    designations.undesignate(
        ReviewMember, actor=actor, staff_id=staff_id, action="homework.design.reviewer_removed",
        not_member="该教职工不是作业审核小组成员。",
    )  # fmt: skip


# --- designs ---------------------------------------------------------------------------------


def _clean(school, *, grade, subject, unit, title, layers) -> tuple[dict, list[tuple]]:
    """The design's fields and its layers [(level, content, minutes)], or a ValidationError
    naming every field at fault."""
    errors = {}
    try:
        grade = int(grade)
    except (TypeError, ValueError):
        grade = None
    if grade is None or grade not in school.grades():
        errors["grade"] = f"年级：{school.name}没有这个年级。"
    if subject not in SUBJECTS:
        errors["subject"] = "学科：请选择学科。"
    unit, title = (unit or "").strip(), (title or "").strip()
    if not unit:
        errors["unit"] = "单元：请填写单元。"
    elif len(unit) > 100:
        errors["unit"] = "单元：最多 100 个字。"
    if not title:
        errors["title"] = "标题：请填写标题。"
    elif len(title) > 100:
        errors["title"] = "标题：最多 100 个字。"
    rows = []
    for level in Level:
        content, minutes = (layers or {}).get(level.value, ("", None))
        content = (content or "").strip()
        if not content and minutes in (None, ""):
            continue
        if not content:
            errors[f"{level.value}_content"] = f"{level.label}层：请填写作业内容。"
        elif len(content) > 2000:
            errors[f"{level.value}_content"] = f"{level.label}层：作业内容不超过2000字。"
        try:
            minutes = int(minutes)
        except (TypeError, ValueError):
            minutes = None
        if minutes is None or not 1 <= minutes <= 300:
            errors[f"{level.value}_minutes"] = f"{level.label}层：预计用时应为 1-300 分钟。"
        rows.append((level.value, content, minutes))
    if not any(level == Level.BASIC for level, _c, _m in rows):
        # 分层作业: the basic layer is the one every pupil does; the others build on it
        errors.setdefault("basic_content", "基础层：必须填写（提高、拓展层可选）。")
    if errors:
        raise ValidationError(errors)
    return {"grade": grade, "subject": subject, "unit": unit, "title": title}, rows


def _write_layers(design, rows):
    DesignLayer.objects.filter(design=design).delete()
    made = DesignLayer.objects.bulk_create(
        DesignLayer(design=design, level=level, content=content, minutes=minutes)
        for level, content, minutes in rows
    )
    _index(design, made)
    return {level: minutes for level, _c, minutes in rows}


def design_submit(*, actor, grade, subject, unit, title, layers) -> HomeworkDesign:
    """``layers``: {level: (content, minutes)} for 基础 (required), 提高, 拓展."""
    staff = _staff(actor)
    with transaction.atomic():
        fields, rows = _clean(staff.school, grade=grade, subject=subject, unit=unit,
                              title=title, layers=layers)  # fmt: skip
        design = HomeworkDesign.objects.create(school_id=staff.school_id, author=staff, **fields)
        minutes = _write_layers(design, rows)
        audit_record(actor=actor, action="homework.design.submitted", obj=design,
                     new=fields | {"layers": minutes})  # fmt: skip
    return design


def _no_pause():
    pass


# Tests widen the window between reading a design's state and writing the new one (_pause),
# and switch the row lock off for the control test that shows the race (_lock): two
# reviewers deciding at once must not both move the same submitted design.
_pause = _no_pause
_lock = locked


def _locked_design(queryset, design_id) -> HomeworkDesign:
    try:
        pk = int(design_id)
    except (TypeError, ValueError):
        raise Http404 from None
    # the design row locked: the state read here is the state the write replaces
    design = _lock(queryset.filter(pk=pk), of=("self",)).first()
    if design is None:
        raise Http404
    _pause()
    return design


def _move(design, to, current):
    if to not in HomeworkDesign.TRANSITIONS[current]:
        raise ValidationError(
            {"decision": f"该作业设计当前为“{current.label}”，不能改为“{S(to).label}”。"}
        )


def design_resubmit(*, actor, design_id, grade, subject, unit, title, layers) -> HomeworkDesign:
    staff = _staff(actor)
    with transaction.atomic():
        design = _locked_design(HomeworkDesign.objects.filter(author=staff), design_id)
        current = S(design.status)
        if current != S.RETURNED:
            raise ValidationError(
                {"title": f"只有已退回的作业设计可以修改（当前为“{current.label}”）。"}
            )
        fields, rows = _clean(staff.school, grade=grade, subject=subject, unit=unit,
                              title=title, layers=layers)  # fmt: skip
        old = {k: getattr(design, k) for k in fields} | {"status": current}
        for k, v in fields.items():
            setattr(design, k, v)
        design.status = S.SUBMITTED
        design.save(update_fields=[*fields, "status"])
        minutes = _write_layers(design, rows)
        audit_record(actor=actor, action="homework.design.resubmitted", obj=design, old=old,
                     new=fields | {"status": S.SUBMITTED, "layers": minutes})  # fmt: skip
    return design


def design_review(*, actor, design_id, decision: str, comment: str = "") -> HomeworkDesign:
    """Approve (``approve``) or return (``return``, with a comment) a submitted design."""
    require(is_reviewer(actor))
    staff = actor.school_staff
    with transaction.atomic():
        design = _locked_design(HomeworkDesign.objects.filter(school_id=staff.school_id), design_id)
        to = {"approve": S.APPROVED, "return": S.RETURNED}.get(decision)
        if to is None:
            raise ValidationError({"decision": "审核结论：请选择通过或退回。"})
        current = S(design.status)
        if current == to:
            return design
        _move(design, to, current)
        if design.author_id == staff.pk and not settings.HOMEWORK_DESIGN_AUTHOR_MAY_REVIEW:
            raise ValidationError({"decision": "审核结论：不能审核本人提交的作业设计。"})
        comment = (comment or "").strip()
        if len(comment) > 1000:
            raise ValidationError({"comment": "审核意见：最多 1000 个字。"})
        least = settings.HOMEWORK_DESIGN_RETURN_COMMENT_MIN
        if to == S.RETURNED and len(comment) < least:
            raise ValidationError(
                {"comment": f"审核意见：退回须写明修改意见（至少 {least} 个字）。"}
            )
        design.status = to
        design.review_comment = comment
        design.reviewed_by = staff
        design.approved_on = timezone.localdate() if to == S.APPROVED else None
        design.save(update_fields=["status", "review_comment", "reviewed_by", "approved_on"])
        audit_record(
            actor=actor,
            action="homework.design.approved" if to == S.APPROVED else "homework.design.returned",
            obj=design, old={"status": current}, new={"status": to, "comment": comment},
        )  # fmt: skip
    return design


def design_share(*, actor, design_id) -> HomeworkDesign:
    """选优推广: an approved design shown to every school of the district."""
    require(may_share(actor))
    with transaction.atomic():
        design = _locked_design(HomeworkDesign.objects.all(), design_id)
        if design.shared_on is not None:
            return design
        if design.status != S.APPROVED:
            raise ValidationError({"design": "只有审核通过的作业设计可以推广。"})
        design.shared_on = timezone.localdate()
        design.shared_by = actor
        design.save(update_fields=["shared_on", "shared_by"])
        audit_record(actor=actor, action="homework.design.shared", obj=design,
                     new={"shared_on": design.shared_on})  # fmt: skip
    return design
