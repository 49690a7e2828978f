"""Complaints (举报/投诉): every write, one service per change (issue 15).

Filing (``complaint_file``) needs no account: the complainant gets a tracking code (12
characters of an alphabet without look-alikes, 31^12 ≈ 2^59), of which only a SHA-256 digest
is stored, so neither a database reader nor the staff can follow a complaint as its
complainant. Each address may file ``PORTAL_COMPLAINT_RATE_PER_HOUR`` complaints an hour,
counted in the Redis cache (``rate_take``; an attempt that is refused gives its slot back).

Handling follows ``Complaint.TRANSITIONS``: received → accepted (or rejected, with the
reason as the reply) → assigned (to a school's managers, or kept by the line's staff) →
answered (with evidence files) → closed with a reply to the complainant. Each move locks the
row, checks the move on the locked row, is kept as a ComplaintStep and audited
(``institutions.complaint.<action>``) in one transaction.

Who handles: the line the category routes to (``Complaint.ROUTE``): bureau staff of that
line (portal.permissions.is_bureau), and the superuser; the bureau line (serving teachers'
paid tutoring) is the superuser's alone. A school's principal or 教导处 answers what is
assigned to their school, and never sees the complainant's name or phone.

Deadlines count working days of the portal's calendar
(``portal.schoolcalendar.WorkingDays``) from the day of receipt:
``PORTAL_COMPLAINT_ACK_WORKING_DAYS`` to accept or reject,
``PORTAL_COMPLAINT_CLOSE_WORKING_DAYS`` to close (institutions/complaint_checks.py)."""

import datetime as dt
import hashlib
import re
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from institutions.complaint_models import Complaint, ComplaintFile, ComplaintStep
from institutions.models import Institution
from portal import evidence
from portal.audit import audit_record
from portal.locks import locked
from portal.models import District, School, SchoolStaff
from portal.notices import notify
from portal.permissions import LINES, is_bureau, is_school_manager, require
from portal.ratelimit import HourlyLimit
from portal.schoolcalendar import CalendarUnknownDay, WorkingDays

C = Complaint.Category
S = Complaint.Status
L = Complaint.Line

# --- tracking codes -----------------------------------------------------------------------

# no 0/O, 1/I/L: a code read over the phone or copied by hand comes out right
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def code_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_normal(raw) -> str | None:
    """The code as typed (any case, with spaces or dashes) in its stored form, or None."""
    value = re.sub(r"[\s\-]", "", str(raw or "")).upper()[: CODE_LENGTH + 1]
    if len(value) != CODE_LENGTH or any(ch not in ALPHABET for ch in value):
        return None
    return value


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def code_display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# --- the rate limit -----------------------------------------------------------------------

_limit = HourlyLimit("complaints:rate", "PORTAL_COMPLAINT_RATE_PER_HOUR")  # portal.ratelimit
rate_take, rate_release = _limit.take, _limit.release


rate_clear = _limit.clear  # tests start each address afresh


# --- working days --------------------------------------------------------------------------


def received_on(complaint) -> dt.date:
    return timezone.localtime(complaint.received_at).date()


def deadlines(complaint) -> dict:
    """The acknowledgement and closing due dates, or the calendar's message when it does
    not know a year they fall in."""
    start = received_on(complaint)
    ack = settings.PORTAL_COMPLAINT_ACK_WORKING_DAYS
    close = settings.PORTAL_COMPLAINT_CLOSE_WORKING_DAYS
    try:
        span = WorkingDays(start, start + dt.timedelta(days=3 * max(ack, close) + 30))
        return {"ack": span.add(start, ack), "close": span.add(start, close), "error": ""}
    except CalendarUnknownDay as exc:
        return {"ack": None, "close": None, "error": str(exc)}


# --- who handles ---------------------------------------------------------------------------


def may_handle(user, complaint) -> bool:
    """The superuser; bureau staff of the complaint's line (the bureau line: superuser only)."""
    if not (user.is_active and user.is_authenticated):
        return False
    if user.is_superuser:
        return True
    return complaint.line in LINES and is_bureau(user, line=complaint.line)


def handled_lines(user) -> list[str]:
    """The lines whose complaints ``user`` handles (empty: none)."""
    if not (user.is_authenticated and user.is_active):
        return []
    if user.is_superuser:
        return list(L.values)
    return [line for line in L.values if line in LINES and is_bureau(user, line=line)]


def _staff(actor, complaint_id):
    complaint = Complaint.objects.filter(pk=complaint_id).only("line").first()
    if complaint is None:
        raise Complaint.DoesNotExist
    require(may_handle(actor, complaint))


# --- filing --------------------------------------------------------------------------------

WHITESPACE = re.compile(r"\s+")
MOBILE = re.compile(r"^1\d{10}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def _clean(value, cap: int, field: str, label: str) -> str:
    value = (value or "").strip()
    if len(value) > cap:
        raise ValidationError({field: f"{label}最多 {cap} 个字，现为 {len(value)} 个字。"})
    return value


def _group_key(category, institution, name, school) -> str:
    if institution is not None:
        return f"{category}:institution:{institution.pk}"
    if name:
        return f"{category}:name:{WHITESPACE.sub('', name).lower()[:200]}"
    if school is not None:
        return f"{category}:school:{school.pk}"
    return ""


def complaint_file(
    *, user=None, category, text, institution_id=None, institution_name="",
    institution_address="", school_id=None, happened_on=None, contact_name="",
    contact_phone="", files=(),
) -> tuple[Complaint, str]:  # fmt: skip
    """File a complaint; returns it and its tracking code (shown once, stored as a digest).
    Every rule is checked, and every file, before anything is written; the files written
    are removed again if the transaction rolls back (portal.evidence.storing)."""
    errors = {}
    if category not in C.values:
        errors["category"] = "请选择举报类别。"
    try:
        text = _clean(text, settings.PORTAL_COMPLAINT_TEXT_MAX_CHARS, "text", "举报内容")
        if not text:
            errors["text"] = "请填写举报内容（发生了什么）。"
    except ValidationError as exc:
        errors.update(exc.message_dict)
    fields = [
        ("institution_name", institution_name, 200, "机构名称"),
        ("institution_address", institution_address, 300, "机构地址"),
        ("contact_name", contact_name, 50, "姓名"),
    ]
    cleaned = {}
    for field, value, cap, label in fields:
        try:
            cleaned[field] = _clean(value, cap, field, label)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    phone = re.sub(r"\s", "", contact_phone or "")
    if phone and not (MOBILE.match(phone) or LANDLINE.match(phone)):
        errors["contact_phone"] = "联系电话应为11位手机号或带区号的固定电话（如 020-12345678）。"
    institution = school = None
    if institution_id:
        institution = Institution.objects.filter(pk=institution_id).first()
        if institution is None:
            errors["institution"] = "所选机构不在名录中，请重新搜索选择，或填写机构名称。"
    if school_id:
        school = School.objects.filter(pk=school_id).first()
        if school is None:
            errors["school"] = "所选学校不存在，请重新选择。"
    if category in Complaint.INSTITUTION_CATEGORIES and institution is None:
        if not cleaned.get("institution_name") and "institution" not in errors:
            errors["institution"] = "请在名录中选择被举报的机构，或填写机构名称（无证机构）。"
    if category in (C.HOMEWORK, C.AFTERSCHOOL) and school is None and "school" not in errors:
        errors["school"] = "学校类举报请选择涉及的学校。"
    if happened_on and happened_on > timezone.localdate():
        errors["happened_on"] = "发生日期不能晚于今天。"
    if errors:
        raise ValidationError(errors)
    checked = evidence.check_files(files, what="举报")

    district = (institution.district_id if institution else None) or (
        school.district_id if school else None
    )
    if district is None:
        # an unlicensed site named in free text: the portal's district when it serves one
        only = list(District.objects.values_list("pk", flat=True)[:2])
        district = only[0] if len(only) == 1 else None
    key = _group_key(category, institution, cleaned["institution_name"], school)
    code = code_new()
    parent = getattr(user, "parent", None) if getattr(user, "is_authenticated", False) else None
    with evidence.storing() as write, transaction.atomic():
        head = None
        if key:
            # one filer at a time per group key, so two repeats at once find the same head
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
            since = timezone.now() - dt.timedelta(days=settings.PORTAL_COMPLAINT_GROUP_DAYS)
            head = (
                Complaint.objects.filter(
                    group_key=key, group_head__isnull=True, received_at__gte=since
                )
                .order_by("received_at", "pk")
                .first()
            )
        complaint = Complaint.objects.create(
            code_digest=code_digest(code), category=category,
            line=Complaint.ROUTE.get(category, L.INSTITUTIONS), district_id=district,
            institution=institution, school=school, text=text, happened_on=happened_on,
            contact_phone=phone, parent=parent, group_key=key, group_head=head, **cleaned,
        )  # fmt: skip
        step = ComplaintStep.objects.create(
            complaint=complaint, action="filed", status=S.RECEIVED, by=None
        )
        rows = [
            ComplaintFile.objects.create(
                complaint=complaint,
                step=step,
                name=item.name,
                kind=item.kind,
                size=item.size,
                sha256=item.sha256,
                path=write(item),
                from_complainant=True,
            )  # fmt: skip
            for item in checked
        ]
        audit_record(
            actor=user if parent else None,
            action="institutions.complaint.filed",
            obj=complaint,
            new={
                "category": category, "line": complaint.line, "group_head": head,
                "files": [{"name": r.name, "sha256": r.sha256, "size": r.size} for r in rows],
            },
        )  # fmt: skip
        notify(
            _line_users(complaint.line),
            key=f"complaint:{complaint.pk}:filed",
            message=f"收到新的举报投诉 #{complaint.pk}（{complaint.get_category_display()}），"
            "请在期限内受理。",
            url=f"/complaints/staff/{complaint.pk}/",
        )
    return complaint, code


def _line_users(line):
    from django.contrib.auth import get_user_model

    from portal.permissions import bureau_of_line

    if line in LINES:
        return list(bureau_of_line(line).values_list("pk", flat=True))
    users = get_user_model().objects.filter(is_superuser=True, is_active=True)
    return list(users.values_list("pk", flat=True))


# --- handling ------------------------------------------------------------------------------


def _move(complaint_id, to, *, actor, action, note="", check=None, then=None, **changes):
    """Lock the complaint, check the move on the locked row, write it, keep it as a step and
    audit it, in one transaction. ``then(complaint, step)`` adds to the audit row."""
    with transaction.atomic():
        complaint = locked(Complaint.objects.filter(pk=complaint_id), of=("self",)).get()
        if check is not None:
            check(complaint)
        current = S(complaint.status)
        if to not in Complaint.TRANSITIONS[current]:
            raise ValidationError(f"该举报当前为“{current.label}”，不能变为“{S(to).label}”。")
        complaint.status = to
        for field, value in changes.items():
            setattr(complaint, field, value)
        complaint.save(update_fields=["status", *changes])
        step = ComplaintStep.objects.create(
            complaint=complaint, action=action, status=to, note=note, by=actor
        )
        extra = then(complaint, step) if then is not None else {}
        audit_record(
            actor=actor,
            action=f"institutions.complaint.{action}",
            obj=complaint,
            old={"status": current},
            new={"status": to, "note": note, **{k: str(v) for k, v in changes.items()}, **extra},
        )
    return complaint


NOTE_CAP = 2000


def complaint_accept(*, actor, complaint_id: int, note: str = "") -> Complaint:
    _staff(actor, complaint_id)
    note = _clean(note, NOTE_CAP, "note", "受理说明")
    return _move(complaint_id, S.ACCEPTED, actor=actor, action="accepted", note=note)


def complaint_reject(*, actor, complaint_id: int, reason: str) -> Complaint:
    """Not accepted: the reason is the reply the complainant reads."""
    _staff(actor, complaint_id)
    reason = _clean(reason, NOTE_CAP, "reason", "不予受理理由")
    if not reason:
        raise ValidationError({"reason": "不予受理时请填写理由（举报人将看到该理由）。"})
    return _move(
        complaint_id, S.REJECTED, actor=actor, action="rejected", note=reason, reply=reason,
        closed_at=timezone.now(),
    )  # fmt: skip


def complaint_assign(*, actor, complaint_id: int, school_id, note: str = "") -> Complaint:
    """Give the complaint to a school (its principal and 教导处 answer it), one of the
    complaint's district; a complaint about a training institution is the line's own and is
    answered by its staff."""
    _staff(actor, complaint_id)
    note = _clean(note, NOTE_CAP, "note", "交办说明")
    try:
        school_pk = int(school_id)
    except (TypeError, ValueError):
        school_pk = 0
    if not 0 < school_pk < 2**63:
        raise ValidationError({"school": "请选择交办的学校。"})

    def of_its_district(complaint):
        if complaint.category in Complaint.INSTITUTION_CATEGORIES:
            raise ValidationError({"school": "培训机构类举报由校外培训条线直接办理，不交办学校。"})
        schools = School.objects.filter(pk=school_pk)
        if complaint.district_id:
            schools = schools.filter(district_id=complaint.district_id)
        if not schools.exists():
            raise ValidationError({"school": "交办学校不存在或不属于该举报所在的区。"})

    def tell_school(complaint, step):
        managers = SchoolStaff.objects.filter(
            school_id=school_pk, role__in=SchoolStaff.MANAGER_ROLES
        ).values_list("user_id", flat=True)
        notify(
            managers,
            key=f"complaint:{complaint.pk}:assigned:{step.pk}",
            message=f"教育局交办举报投诉 #{complaint.pk}（{complaint.get_category_display()}），"
            "请核查并反馈办理情况。",
            url=f"/complaints/school/{complaint.pk}/",
        )
        return {"school": school_pk}

    return _move(
        complaint_id, S.ASSIGNED, actor=actor, action="assigned", note=note,
        check=of_its_district, then=tell_school, assigned_school_id=school_pk,
    )  # fmt: skip


def complaint_answer(*, actor, complaint_id: int, answer: str, files=()) -> Complaint:
    """What was found and done, with evidence files: by the assigned school's principal or
    教导处, or by the line's staff (a complaint they keep). One refused file refuses it all."""
    school = is_school_manager(actor)
    if not school:
        _staff(actor, complaint_id)
    answer = _clean(answer, NOTE_CAP, "answer", "办理情况")
    if not answer:
        raise ValidationError({"answer": "请填写办理情况。"})
    checked = evidence.check_files(files, what="办理情况")

    def allowed(complaint):
        if school and complaint.assigned_school_id != actor.school_staff.school_id:
            raise PermissionDenied
        if not school and complaint.status == S.ASSIGNED and complaint.assigned_school_id:
            raise ValidationError("该举报已交办学校，请等待学校反馈，或由学校反馈后退回。")

    with evidence.storing() as write:

        def attach(complaint, step):
            rows = [
                ComplaintFile.objects.create(
                    complaint=complaint,
                    step=step,
                    name=item.name,
                    kind=item.kind,
                    size=item.size,
                    sha256=item.sha256,
                    path=write(item),
                    by=actor,
                )  # fmt: skip
                for item in checked
            ]
            return {"files": [{"name": r.name, "sha256": r.sha256, "size": r.size} for r in rows]}

        return _move(
            complaint_id, S.ANSWERED, actor=actor, action="answered", note=answer,
            check=allowed, then=attach, answer=answer,
        )  # fmt: skip


def complaint_return(*, actor, complaint_id: int, note: str) -> Complaint:
    """Send an answer back to the school: more is to be done."""
    _staff(actor, complaint_id)
    note = _clean(note, NOTE_CAP, "note", "退回说明")
    if not note:
        raise ValidationError({"note": "退回时请说明还需要做什么。"})

    def to_a_school(complaint):
        if not complaint.assigned_school_id:
            raise ValidationError("只有交办学校的举报才能退回。")

    return _move(
        complaint_id, S.ASSIGNED, actor=actor, action="returned", note=note, check=to_a_school
    )


def complaint_close(*, actor, complaint_id: int, reply: str) -> Complaint:
    """Close an answered complaint with the reply the complainant reads with the code."""
    _staff(actor, complaint_id)
    reply = _clean(reply, NOTE_CAP, "reply", "答复")
    if not reply:
        raise ValidationError({"reply": "办结时请填写给举报人的答复。"})
    return _move(
        complaint_id, S.CLOSED, actor=actor, action="closed", note=reply, reply=reply,
        closed_at=timezone.now(),
    )  # fmt: skip


def complaint_contact_show(*, actor, complaint_id: int) -> tuple[str, str]:
    """The complainant's full name and phone, to the handling staff, one audit row written
    before they are shown (the caller renders them after this returns)."""
    _staff(actor, complaint_id)
    require(not is_school_manager(actor))
    with transaction.atomic():
        complaint = Complaint.objects.get(pk=complaint_id)
        audit_record(
            actor=actor,
            action="institutions.complaint.contact_shown",
            obj=complaint,
            new={"phone": complaint.masked_phone, "name": complaint.masked_name},
        )
    return complaint.contact_name, complaint.contact_phone
