"""The handling of a finding by bureau staff and schools: staff assign it to a school or an
institution, the school answers with what it did (整改), staff close it or send it back.
Every step is checked against ``Finding.WORKFLOW`` on the locked row, kept as a FindingStep
and audited in the same transaction; the school hears of it in its inbox."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from portal.access import BUREAU, SCHOOL, kind_of
from portal.audit import audit_record
from portal.models import Finding, FindingStep, School, SchoolStaff
from portal.notices import notify

W = Finding.Workflow
MANAGERS = SchoolStaff.MANAGER_ROLES
PERM = "portal.change_finding"


def for_school(school_id: int):
    """The findings a school sees: about it, or assigned to it."""
    return Finding.objects.filter(Q(school_id=school_id) | Q(assigned_school_id=school_id))


def _staff(actor):
    if kind_of(actor) != BUREAU or not actor.has_perm(PERM):
        raise PermissionDenied


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


def _move(finding_id, to, *, actor, note="", check=None, **changes) -> Finding:
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding_id)
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
        action = "returned" if current == W.ANSWERED and to == W.ASSIGNED else W(to).value
        FindingStep.objects.create(finding=finding, action=action, note=note, by=actor)
        audit_record(
            actor=actor,
            action=f"portal.finding.{action}",
            obj=finding,
            old=old,
            new={"workflow": to, "note": note, **{k: str(v) for k, v in changes.items()}},
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


def finding_answer(*, actor, finding_id: int, answer: str) -> Finding:
    """The school's principal or 教导处 says what it did."""
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": "请填写整改情况。"})
    if kind_of(actor) != SCHOOL or actor.school_staff.role not in MANAGERS:
        raise PermissionDenied

    def mine(finding):
        if finding.assigned_school_id != actor.school_staff.school_id:
            raise PermissionDenied

    return _move(finding_id, W.ANSWERED, actor=actor, note=answer, check=mine, answer=answer)


def finding_close(*, actor, finding_id: int, note: str = "") -> Finding:
    _staff(actor)
    return _move(finding_id, W.CLOSED, actor=actor, note=note.strip())


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
