"""The institution's side (机构端): its accounts and what its staff may do.

``selling_refusal`` is the one rule of who may sell: an institution on the black list or
suspended by the bureau logs in and reads, never sells (a sale, a course filed for sale).
``course_sellable`` adds the course's own state: only an active, approved (已备案) course of
an institution that may sell is sold.

Accounts. Bureau staff of the training line create an institution's first account, its
管理员 (``institution_admin_create``), or approve the institution's own request
(``account_request_file`` from its public page, ``account_request_decide``). The 管理员 adds
and deactivates its own institution's staff (``staff_add``, ``staff_deactivate``). A new
account gets a one-time initial password, returned once by the service for the page to show
once and never stored in clear nor audited; the holder changes it after the first login.
"""

import re
import secrets
import string

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from institutions import colour
from institutions.account_models import AccountRequest, InstitutionStaff
from institutions.models import Course, Institution
from portal import accounts
from portal.audit import audit_record
from portal.locks import locked
from portal.models import mask_phone
from portal.permissions import is_bureau, is_institution_staff, require
from portal.ratelimit import HourlyLimit

LINE = "institutions"
Role = InstitutionStaff.Role
RS = AccountRequest.Status

MOBILE = re.compile(r"^1\d{10}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def selling_refusal(institution: Institution, *, today=None, verdict=None) -> str | None:
    """Why ``institution`` may not sell now, in Chinese; None when it may. ``verdict``: its
    colour.verdict when the caller has it already (saves its queries)."""
    if institution.suspended_reason:
        return (
            f"{institution.name}已被暂停办学（{institution.suspended_reason}），"
            "暂停期间不得招生收费。"
        )
    verdict = verdict or colour.verdict(institution, today=today)
    if verdict.colour == colour.BLACK:
        return f"{institution.name}在黑名单上（{'；'.join(verdict.reasons)}），不得招生收费。"
    return None


def course_sellable(course: Course, *, today=None) -> str | None:
    """Why ``course`` may not be sold now, in Chinese; None when it may: it must be active
    (在售), approved by the bureau (已备案), and its institution may sell (selling_refusal)."""
    if not course.active:
        return f"课程“{course.name}”已停售，不能收费。"
    if course.filing != Course.Filing.APPROVED:
        return f"课程“{course.name}”{course.get_filing_display()}，须经教育局备案通过后才能收费。"
    return selling_refusal(course.institution, today=today)


# --- who may -------------------------------------------------------------------------------


def _bureau(actor) -> None:
    """Bureau staff of the training-institutions line (校外培训); others: 403."""
    require(is_bureau(actor, line=LINE, perm="institutions.change_institution"))


def staff_of(actor) -> InstitutionStaff | None:
    """The actor's active InstitutionStaff row, or None."""
    if not is_institution_staff(actor):
        return None
    return actor.institution_staff


# --- new users -----------------------------------------------------------------------------

_ALPHABET = string.ascii_letters + string.digits
_username = UnicodeUsernameValidator()


def initial_password() -> str:
    """A one-time password: letters and digits, long enough for the validators."""
    length = max(settings.PORTAL_ORG_INITIAL_PASSWORD_LENGTH, 12)
    while True:
        value = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _clean_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": "请填写登录账号。"})
    if len(username) > 150:
        raise ValidationError({"username": "登录账号最多 150 个字符。"})
    try:
        _username(username)
    except ValidationError:
        raise ValidationError(
            {"username": "登录账号只能包含字母、数字和 @/./+/-/_ 符号。"}
        ) from None
    if get_user_model().objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"登录账号“{username}”已被使用，请换一个。"})
    return username


def _clean_name(name: str, field: str = "name", label: str = "姓名") -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({field: f"请填写{label}。"})
    if len(name) > 50:
        raise ValidationError({field: f"{label}最多 50 个字。"})
    return name


def _new_staff(*, institution, username, name, role) -> tuple[InstitutionStaff, str]:
    """Create the user and its InstitutionStaff row (inside the caller's transaction)."""
    password = initial_password()
    user_model = get_user_model()
    user = user_model(username=username)
    password_validation.validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():  # savepoint: the same name taken at the same moment
            user.save()
    except IntegrityError:
        raise ValidationError({"username": f"登录账号“{username}”已被使用，请换一个。"}) from None
    staff = InstitutionStaff.objects.create(
        user=user, institution=institution, role=role, name=name
    )
    return staff, password


def _has_active_admin(institution_id: int) -> bool:
    return InstitutionStaff.objects.filter(
        institution_id=institution_id, role=Role.ADMIN, active=True, user__is_active=True
    ).exists()


# --- the bureau: the first account ---------------------------------------------------------


def _no_pause(point: str):
    pass


# Tests put a pause here ("checked": after the check that the institution has no 管理员,
# before the account is written). The control test shows two creations racing without the
# institution's row lock (both check, both write: two 管理员); the real one that the lock
# makes the second wait and then find the first (tests/institutions/test_org_concurrency.py).
_pause = _no_pause


def institution_admin_create(
    *, actor, institution_id: int, username: str, name: str, lock: bool = True
) -> tuple[InstitutionStaff, str]:
    """Create the institution's 管理员 account; returns it and its one-time password (shown
    once by the page, never stored in clear nor audited). Refused while the institution has
    an active 管理员: that one adds the others. ``lock=False`` only for the control test."""
    _bureau(actor)
    errors = {}
    try:
        name = _clean_name(name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        username = _clean_username(username)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # one creator at a time per institution: two clicks make one 管理员
        rows = Institution.objects.filter(pk=institution_id)
        institution = (locked(rows) if lock else rows).get()
        if _has_active_admin(institution.pk):
            raise ValidationError(
                {"institution": f"{institution.name}已有管理员账号，由其管理员添加其他人员。"}
            )
        _pause("checked")
        staff, password = _new_staff(
            institution=institution, username=username, name=name, role=Role.ADMIN
        )
        audit_record(
            actor=actor,
            action="institutions.account.created",
            obj=staff,
            new={"institution": institution.pk, "username": username, "role": Role.ADMIN},
        )
    return staff, password


# --- the institution's request -------------------------------------------------------------

_limit = HourlyLimit("org:request-rate", "PORTAL_ORG_REQUEST_RATE_PER_HOUR")  # portal.ratelimit
rate_take, rate_release = _limit.take, _limit.release


rate_clear = _limit.clear  # tests start each address afresh


def account_request_file(
    *, institution_id: int, contact_name: str, contact_phone: str, note: str = ""
) -> AccountRequest:
    """The institution asks for its first account (public, no login). Refused when it
    already has a 管理员, or a request of it is still open (one at a time)."""
    errors = {}
    try:
        contact_name = _clean_name(contact_name, "contact_name", "联系人姓名")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    phone = re.sub(r"\s", "", contact_phone or "")
    if not (MOBILE.match(phone) or LANDLINE.match(phone)):
        errors["contact_phone"] = "联系电话应为11位手机号或带区号的固定电话（如 020-12345678）。"
    note = (note or "").strip()
    if len(note) > 500:
        errors["note"] = "说明最多 500 个字。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        institution = locked(Institution.objects.filter(pk=institution_id)).first()
        if institution is None:
            raise ValidationError({"institution": "该机构不在名录中。"})
        if _has_active_admin(institution.pk):
            raise ValidationError(
                {"institution": f"{institution.name}已开通机构账号，请联系本机构管理员。"}
            )
        if AccountRequest.objects.filter(institution=institution, status=RS.OPEN).exists():
            raise ValidationError(
                {"institution": f"{institution.name}已有一份待处理的申请，请等待教育局处理。"}
            )
        request = AccountRequest.objects.create(
            institution=institution, contact_name=contact_name, contact_phone=phone, note=note
        )
        audit_record(
            actor=None,
            action="institutions.account.requested",
            obj=request,
            new={"institution": institution.pk, "contact_phone": mask_phone(phone)},
        )
        from portal.notices import line_staff, notify

        notify(
            line_staff(LINE),
            key=f"org:request:{request.pk}",
            message=f"{institution.name}申请开通机构账号，请审核。",
            url="/org/bureau/accounts/",
        )
    return request


def account_request_decide(
    *, actor, request_id: int, approve: bool, username: str = "", name: str = "", reason=""
) -> tuple[AccountRequest, str | None]:
    """Approve (creates the 管理员 account named ``username``, ``name`` defaulting to the
    contact; returns its one-time password) or reject with ``reason``."""
    _bureau(actor)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": "不予开通时请填写理由。"})
    if len(reason) > 500:
        raise ValidationError({"reason": "理由最多 500 个字。"})
    with transaction.atomic():
        request = locked(
            AccountRequest.objects.select_related("institution").filter(pk=request_id)
        ).get()
        if request.status != RS.OPEN:
            raise ValidationError(
                {"request": f"该申请已处理（{request.get_status_display()}），不能再次处理。"}
            )
        password = None
        if approve:
            staff, password = institution_admin_create(
                actor=actor,
                institution_id=request.institution_id,
                username=username,
                name=name or request.contact_name,
            )
            request.staff = staff
            request.status = RS.APPROVED
        else:
            request.status = RS.REJECTED
            request.reason = reason
        request.decided_at = timezone.now()
        request.decided_by = actor
        request.save(update_fields=["staff", "status", "reason", "decided_at", "decided_by"])
        audit_record(
            actor=actor,
            action="institutions.account.request_approved"
            if approve
            else "institutions.account.request_rejected",
            obj=request,
            old={"status": RS.OPEN},
            new={"status": request.status, "reason": reason},
        )
    return request, password


# --- the institution's 管理员: its own staff -----------------------------------------------


def _admin_of(actor) -> InstitutionStaff:
    require(is_institution_staff(actor, roles=[Role.ADMIN]))
    return actor.institution_staff


def staff_add(*, actor, username: str, name: str, role: str) -> tuple[InstitutionStaff, str]:
    """The 管理员 adds a member of its own institution's staff; returns the row and the
    one-time password."""
    me = _admin_of(actor)
    errors = {}
    if role not in Role.values:
        errors["role"] = "请选择角色（管理员、教务/前台或财务）。"
    for check in (lambda: _clean_name(name), lambda: _clean_username(username)):
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        institution = locked(Institution.objects.filter(pk=me.institution_id)).get()
        staff, password = _new_staff(
            institution=institution, username=username.strip(), name=name.strip(), role=role
        )
        audit_record(
            actor=actor,
            action="institutions.account.staff_added",
            obj=staff,
            new={"institution": institution.pk, "username": username.strip(), "role": role},
        )
    return staff, password


def staff_deactivate(*, actor, staff_id: int) -> InstitutionStaff:
    """The 管理员 deactivates one of its own institution's staff (another institution's:
    404 at the page, PermissionDenied here); never itself, so an institution always keeps
    the 管理员 who acts."""
    me = _admin_of(actor)
    with transaction.atomic():
        staff = locked(
            InstitutionStaff.objects.filter(pk=staff_id, institution_id=me.institution_id)
        ).first()
        require(staff is not None)
        if staff.pk == me.pk:
            raise ValidationError({"staff": "不能停用自己的账号。"})
        if not staff.active:
            return staff
        staff.active = False
        staff.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="institutions.account.staff_deactivated",
            obj=staff,
            old={"active": True},
            new={"active": False},
        )
    return staff


def password_change(*, actor, old_password: str, new_password1: str, new_password2: str):
    """An institution's staff member replaces its password (the one-time initial password
    first of all): the old one, the new one twice, Django's validators. Audited by
    portal.accounts (``auth.password_changed``, never the password) in this transaction."""
    require(is_institution_staff(actor))
    return accounts.password_replace(
        actor=actor, old_password=old_password, new_password1=new_password1,
        new_password2=new_password2,
    )  # fmt: skip
