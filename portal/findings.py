"""The handling of a finding by bureau staff and schools: staff assign it to a school or an
institution, the school answers with what it did (整改), staff close it or send it back.
Every step is checked against ``Finding.WORKFLOW`` on the locked row, kept as a FindingStep
and audited in the same transaction; the school hears of it in its inbox."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from portal import evidence
from portal.audit import audit_record
from portal.locks import locked
from portal.models import Finding, FindingStep, School, SchoolStaff
from portal.notices import notify
from portal.permissions import is_bureau, is_school_manager, require

W = Finding.Workflow
MANAGERS = SchoolStaff.MANAGER_ROLES
PERM = "portal.change_finding"


def for_school(school_id: int):
    """The findings a school sees: about it, or assigned to it."""
    return Finding.objects.filter(Q(school_id=school_id) | Q(assigned_school_id=school_id))


def _staff(actor):
    require(is_bureau(actor, perm=PERM))


def _tell_school(school_id, finding, message):
    users = SchoolStaff.objects.filter(school_id=school_id, role__in=MANAGERS).values_list(
        "user_id", flat=True
    )
    notify(
        users,
        key=f"finding:{finding.pk}:{finding.workflow}:{finding.steps.count()}",
        message=message,
        url=f"/school/findings/{finding.pk}/",
    )


def _move(finding_id, to, *, actor, note="", check=None, action=None, then=None, **changes):
    """Lock the finding, check the step on the locked row, write it, keep it as a FindingStep
    and audit it. ``then(finding, step)`` runs in the same transaction before the audit row
    and returns what it adds to it (the evidence files)."""
    with transaction.atomic():
        finding = locked(Finding.objects.filter(pk=finding_id), of=("self",)).get()
        if check is not None:
            check(finding)
        current = W(finding.workflow)
        if to not in Finding.WORKFLOW[current]:
            raise ValidationError(f"该检查发现当前为“{current.label}”，不能变为“{W(to).label}”。")
        old = {"workflow": current}
        finding.workflow = to
        for field, value in changes.items():
            setattr(finding, field, value)
        finding.save(update_fields=["workflow", *changes])
        if action is None:
            action = "returned" if current == W.ANSWERED and to == W.ASSIGNED else W(to).value
        step = FindingStep.objects.create(finding=finding, action=action, note=note, by=actor)
        extra = then(finding, step) if then is not None else {}
        audit_record(
            actor=actor,
            action=f"portal.finding.{action}",
            obj=finding,
            old=old,
            new={
                "workflow": to,
                "note": note,
                **{k: str(v) for k, v in changes.items()},
                **extra,
            },
        )
    return finding


def finding_assign(*, actor, finding_id: int, school_id=None, institution_id=None, note=""):
    """Give a finding to a school (it sees it among its own) or an institution."""
    _staff(actor)
    if bool(school_id) == bool(institution_id):
        raise ValidationError({"school": "请选择交办的学校或培训机构（二选一）。"})
    if school_id and not School.objects.filter(pk=school_id).exists():
        raise ValidationError({"school": "没有这所学校。"})
    finding = _move(
        finding_id,
        W.ASSIGNED,
        actor=actor,
        note=note.strip(),
        assigned_school_id=school_id or None,
        assigned_institution_id=institution_id or None,
    )
    if school_id:
        _tell_school(
            school_id, finding, f"教育局交办检查发现，请整改并反馈：{finding.message[:200]}"
        )
    return finding


def finding_answer(*, actor, finding_id: int, answer: str, files=()) -> Finding:
    """The school's principal or 教导处 says what it did, with evidence files (PDF, JPG, PNG;
    portal.evidence). A finding assigned to an institution, which has no account of its
    own, is answered by bureau staff on its behalf with what the institution sent.
    One refused file refuses the whole answer: nothing is written."""
    answer = (answer or "").strip()
    school = is_school_manager(actor)
    if not school and not is_bureau(actor, perm=PERM):
        raise PermissionDenied
    if not answer:
        raise ValidationError({"answer": "请填写整改情况。"})
    checked = evidence.check_files(files)

    def mine(finding):
        if school and finding.assigned_school_id != actor.school_staff.school_id:
            raise PermissionDenied
        if not school and not finding.assigned_institution_id:
            raise PermissionDenied  # staff answer only for an institution

    with evidence.saving() as save:

        def attach(finding, step):
            rows = [save(item, finding=finding, step=step, by=actor) for item in checked]
            return {"evidence": [{"name": r.name, "sha256": r.sha256, "size": r.size}
                                 for r in rows]}  # fmt: skip

        return _move(
            finding_id, W.ANSWERED, actor=actor, note=answer, check=mine, then=attach,
            answer=answer,
        )  # fmt: skip


def finding_close(*, actor, finding_id: int, note: str = "") -> Finding:
    """Close a finding: a new one staff judge needs nothing, or an answered one. One that
    was assigned and not answered closes only by ``finding_close_unanswered``."""
    _staff(actor)

    def answered_or_new(finding):
        if finding.workflow == W.ASSIGNED:
            raise ValidationError(
                "该检查发现已交办、尚未反馈整改，不能直接办结；"
                "如确需办结，请选择“未反馈办结”并说明理由。"
            )

    return _move(finding_id, W.CLOSED, actor=actor, note=note.strip(), check=answered_or_new)


def finding_close_unanswered(*, actor, finding_id: int, reason: str) -> Finding:
    """Close an assigned finding the school or institution never answered: only with a
    reason, kept in the step and the audit row (portal.finding.closed_unanswered)."""
    _staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"note": "未反馈办结时请说明理由。"})

    def assigned(finding):
        if finding.workflow != W.ASSIGNED:
            raise ValidationError("只有已交办、尚未反馈整改的检查发现才能“未反馈办结”。")

    return _move(
        finding_id, W.CLOSED, actor=actor, note=reason, check=assigned,
        action="closed_unanswered",
    )  # fmt: skip


def finding_return(*, actor, finding_id: int, note: str) -> Finding:
    """Send the answer back: the school is to do more."""
    _staff(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "退回时请说明还需要做什么。"})
    finding = _move(finding_id, W.ASSIGNED, actor=actor, note=note)
    if finding.assigned_school_id:
        _tell_school(finding.assigned_school_id, finding, f"整改反馈被退回：{note[:200]}")
    return finding
