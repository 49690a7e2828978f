"""The handling of a finding by bureau staff and schools: staff assign it to a school or an
institution, the school answers with what it did (整改), staff close it or send it back.
Every step is checked against ``Finding.WORKFLOW`` on the locked row, kept as a FindingStep
and audited in the same transaction; the school hears of it in its inbox.

Who handles which finding: bureau staff holding ``portal.change_finding`` of the finding's
line of work (``line_of``: the app of the check that found it), or the superuser; the case
library's editors do not close the after-school line's findings. A finding is assigned only
to an existing school or institution of its own district (``district_of``), sent back only
once it was answered, and every note is at most ``PORTAL_FINDING_NOTE_MAX_CHARS`` long."""

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, When

from portal import evidence
from portal.audit import audit_record
from portal.locks import locked
from portal.models import Finding, FindingStep, School, SchoolStaff
from portal.notices import notify
from portal.permissions import LINES, is_bureau, is_school_manager, require

W = Finding.Workflow
MANAGERS = SchoolStaff.MANAGER_ROLES
PERM = "portal.change_finding"
MAX_ID = 2**63 - 1  # a bigint primary key: anything else names no row


def for_school(school_id: int):
    """The findings a school sees: about it, or assigned to it."""
    return Finding.objects.filter(Q(school_id=school_id) | Q(assigned_school_id=school_id))


def in_reading_order(queryset):
    """How finding lists read (the school's and the dashboard's pages): open ones first, the
    newest found first, within a day the most severe first (a serious finding is not lost
    under a day's warnings), then the latest recorded."""
    severity_rank = Case(
        When(severity=Finding.Severity.SERIOUS, then=0),
        When(severity=Finding.Severity.WARNING, then=1),
        default=2,
    )
    return queryset.order_by(
        F("resolved_at").desc(nulls_first=True), "-first_seen", severity_rank, "-pk"
    )


def line_of(finding) -> str | None:
    """The line of work a finding belongs to: the app whose check found it, the first part
    of its rule code (``afterschool.bill.overdue`` → ``afterschool``; every check is
    registered under its app's label, portal.compliance). ``None`` for a rule of no known
    line: then only the superuser handles it (fail closed)."""
    app = (finding.rule or "").split(".", 1)[0]
    return app if app in LINES else None


def may_handle(user, finding) -> bool:
    """May ``user`` assign, close, send back (or answer for an institution) ``finding``:
    the superuser, or bureau staff of the finding's line holding ``portal.change_finding``.
    The shared core's own findings (``portal.*``) belong to every line's staff."""
    if user.is_active and user.is_superuser:
        return True
    line = line_of(finding)
    return line is not None and is_bureau(user, line=line, perm=PERM)


def district_of(finding) -> int | None:
    """The district a finding is in: its school's, else its institution's; ``None`` for a
    finding about neither (a provider of the after-school line, the calendar)."""
    if finding.school_id:
        return School.objects.filter(pk=finding.school_id).values_list("district_id", flat=True)[0]
    if finding.institution_id:
        institution = apps.get_model("institutions", "Institution")
        return (
            institution.objects.filter(pk=finding.institution_id)
            .values_list("district_id", flat=True)
            .first()
        )
    return None


def assignable_schools(finding):
    """The schools a finding may be assigned to: those of its district (all of them for a
    finding of no district)."""
    district = district_of(finding)
    schools = School.objects.order_by("name")
    return schools if district is None else schools.filter(district_id=district)


def _note(value, field: str = "note", label: str = "说明") -> str:
    """A note stripped and within ``PORTAL_FINDING_NOTE_MAX_CHARS``, or a ValidationError
    naming the field."""
    value = (value or "").strip()
    cap = settings.PORTAL_FINDING_NOTE_MAX_CHARS
    if len(value) > cap:
        raise ValidationError(
            {field: f"{label}最多 {cap} 个字，现为 {len(value)} 个字，请精简后再提交。"}
        )
    return value


def _staff(actor, finding_id=None):
    """Bureau staff holding the permission; of the finding's line when ``finding_id`` is
    given (its rule never changes, so reading it before the row lock is sound)."""
    require(actor.is_superuser or is_bureau(actor, perm=PERM))
    if finding_id is not None:
        finding = Finding.objects.filter(pk=finding_id).only("rule").first()
        if finding is None:
            raise Finding.DoesNotExist
        require(may_handle(actor, finding))


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


def _an_id(value, field: str, label: str):
    """A positive bigint id, or None when not given; anything else names the field."""
    if value in (None, ""):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        pk = 0
    if not 0 < pk <= MAX_ID:
        raise ValidationError({field: f"{label}不存在，请重新选择。"})
    return pk


def finding_assign(*, actor, finding_id: int, school_id=None, institution_id=None, note=""):
    """Give a finding to a school (it sees it among its own) or an institution: one that
    exists and is of the finding's district."""
    _staff(actor, finding_id)
    school_id = _an_id(school_id, "school", "交办学校")
    institution_id = _an_id(institution_id, "institution", "交办培训机构")
    if bool(school_id) == bool(institution_id):
        raise ValidationError({"school": "请选择交办的学校或培训机构（二选一）。"})
    note = _note(note, "note", "交办说明")

    def of_its_district(finding):
        district = district_of(finding)
        if school_id:
            schools = School.objects.filter(pk=school_id)
            if district is not None:
                schools = schools.filter(district_id=district)
            if not schools.exists():
                raise ValidationError(
                    {"school": "交办学校不存在或不属于该检查发现所在的区，请重新选择。"}
                )
        else:
            institutions = apps.get_model("institutions", "Institution").objects.filter(
                pk=institution_id
            )
            if district is not None:
                institutions = institutions.filter(district_id=district)
            if not institutions.exists():
                raise ValidationError({
                    "institution": "交办培训机构不存在或不属于该检查发现所在的区，"
                    "请核对机构编号。"
                })  # fmt: skip

    finding = _move(
        finding_id,
        W.ASSIGNED,
        actor=actor,
        note=note,
        check=of_its_district,
        assigned_school_id=school_id,
        assigned_institution_id=institution_id,
    )
    if school_id:
        _tell_school(
            school_id, finding, f"教育局交办检查发现，请整改并反馈：{finding.message[:200]}"
        )
    return finding


def finding_answer(*, actor, finding_id: int, answer: str, files=()) -> Finding:
    """The school's principal or 教导处 says what it did, with evidence files (PDF, JPG, PNG;
    portal.evidence). A finding assigned to an institution, which has no account of its
    own, is answered by bureau staff of the finding's line on its behalf with what the
    institution sent. One refused file refuses the whole answer: nothing is written."""
    school = is_school_manager(actor)
    if not school:
        _staff(actor, finding_id)
    answer = _note(answer, "answer", "整改情况")
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
    _staff(actor, finding_id)
    note = _note(note)

    def answered_or_new(finding):
        if finding.workflow == W.ASSIGNED:
            raise ValidationError(
                "该检查发现已交办、尚未反馈整改，不能直接办结；"
                "如确需办结，请选择“未反馈办结”并说明理由。"
            )

    return _move(finding_id, W.CLOSED, actor=actor, note=note, check=answered_or_new)


def finding_close_unanswered(*, actor, finding_id: int, reason: str) -> Finding:
    """Close an assigned finding the school or institution never answered: only with a
    reason, kept in the step and the audit row (portal.finding.closed_unanswered)."""
    _staff(actor, finding_id)
    reason = _note(reason, "note", "理由")
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
    """Send the answer back: the school is to do more. Only an answered finding goes back
    (a new one has nobody to go back to; an assigned one is still being worked on)."""
    _staff(actor, finding_id)
    note = _note(note)
    if not note:
        raise ValidationError({"note": "退回时请说明还需要做什么。"})

    def answered(finding):
        if finding.workflow != W.ANSWERED:
            raise ValidationError(
                f"只有已反馈整改的检查发现才能退回；该检查发现当前为“{W(finding.workflow).label}”。"
            )

    finding = _move(finding_id, W.ASSIGNED, actor=actor, note=note, check=answered)
    if finding.assigned_school_id:
        _tell_school(finding.assigned_school_id, finding, f"整改反馈被退回：{note[:200]}")
    return finding
