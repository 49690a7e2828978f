"""Accounts of supply's outside users: organisations (providers applying to a call, venues
and clubs of the course catalogue) with their members, and the bureau's expert pool.

- An organisation registers itself on a public page (``organisation_register``): the
  Organisation, its first member (管理员) and that member's user, in one transaction; its
  统一社会信用代码 is checked (institutions.uscc) and registered once.
- Its 管理员 adds staff members (``member_add``, a one-time password shown once) and
  deactivates them (``member_deactivate``, never itself).
- Bureau staff of 课后服务 (the "supply" line) deactivate an organisation
  (``organisation_deactivate``: its members become nobody) and keep the expert pool
  (``expert_create`` with a one-time password, ``expert_deactivate``).

New users' one-time passwords come from institutions.accounts (``initial_password``, the
same validators); they are returned once, never stored in clear nor audited.
"""

import re

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from institutions import uscc
from institutions.accounts import initial_password
from portal import accounts
from portal.audit import audit_record
from portal.locks import locked
from portal.models import mask_phone
from portal.permissions import is_bureau, is_organisation_member, require
from portal.ratelimit import HourlyLimit
from supply.account_models import Expert, Organisation, OrganisationMember

LINE = "supply"
Role = OrganisationMember.Role
MOBILE = re.compile(r"^1\d{10}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_username = UnicodeUsernameValidator()


# --- who -----------------------------------------------------------------------------------


def member_of(user) -> OrganisationMember | None:
    """The user's active member row (of an active organisation), or None."""
    if not is_organisation_member(user):
        return None
    return user.organisation_member


def organisation_of(user) -> Organisation | None:
    member = member_of(user)
    return member.organisation if member else None


def _bureau(actor) -> None:
    """Bureau staff of the supply line (课后服务 group) who may change organisations."""
    require(is_bureau(actor, line=LINE, perm="supply.change_organisation"))


def _admin_of(actor) -> OrganisationMember:
    require(is_organisation_member(actor, roles=[Role.ADMIN]))
    return actor.organisation_member


# --- clean input ---------------------------------------------------------------------------


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


def _clean_text(value: str, field: str, label: str, limit: int = 50) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"请填写{label}。"})
    if len(value) > limit:
        raise ValidationError({field: f"{label}最多 {limit} 个字。"})
    return value


def _collect(errors: dict, check):
    try:
        return check()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
        return None


def _new_user(username: str, password: str | None):
    """A user with ``password`` (validated) or a one-time one; inside the caller's
    transaction. Returns (user, the one-time password or None)."""
    user_model = get_user_model()
    user = user_model(username=username)
    one_time = None
    if password is None:
        password = one_time = initial_password()
    password_validation.validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():  # savepoint: the same name taken at the same moment
            user.save()
    except IntegrityError:
        raise ValidationError({"username": f"登录账号“{username}”已被使用，请换一个。"}) from None
    return user, one_time


# --- registration (public) -----------------------------------------------------------------

_limit = HourlyLimit(
    "supply:register-rate", "PORTAL_SUPPLY_REGISTER_RATE_PER_HOUR"
)  # portal.ratelimit
rate_take, rate_release = _limit.take, _limit.release


def organisation_register(
    *,
    name: str,
    credit_code: str,
    kind: str,
    contact_name: str,
    contact_phone: str,
    username: str,
    member_name: str = "",
    password1: str,
    password2: str,
) -> tuple[Organisation, OrganisationMember]:
    """An organisation registers itself (public, no login): the Organisation, its 管理员
    member and the member's user with the password typed twice, in one transaction.
    A credit code registered before is refused."""
    errors: dict[str, list[str]] = {}
    name = _collect(errors, lambda: _clean_text(name, "name", "组织名称", 200))
    code = (credit_code or "").strip().upper()
    problem = uscc.problem(code)
    if problem:
        errors.setdefault("credit_code", []).append(problem)
    if kind not in Organisation.Kind.values:
        errors.setdefault("kind", []).append("请选择组织类型。")
    contact_name = _collect(errors, lambda: _clean_text(contact_name, "contact_name", "联系人"))
    phone = re.sub(r"\s", "", contact_phone or "")
    if not (MOBILE.match(phone) or LANDLINE.match(phone)):
        errors.setdefault("contact_phone", []).append(
            "联系电话应为11位手机号或带区号的固定电话（如 020-12345678）。"
        )
    username = _collect(errors, lambda: _clean_username(username))
    member_name = (member_name or "").strip() or contact_name
    if not password1:
        errors.setdefault("password1", []).append("请设置登录密码。")
    elif password1 != password2:
        errors.setdefault("password2", []).append("两次输入的密码不一致。")
    elif username:
        try:
            password_validation.validate_password(password1, get_user_model()(username=username))
        except ValidationError as exc:
            errors.setdefault("password1", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if Organisation.objects.filter(credit_code=code).exists():
            raise ValidationError(
                {"credit_code": f"统一社会信用代码{code}已注册，请由本组织管理员登录。"}
            )
        user, _none = _new_user(username, password1)
        try:
            with transaction.atomic():  # savepoint: the same code registered at this moment
                organisation = Organisation.objects.create(
                    name=name, credit_code=code, kind=kind, contact_name=contact_name,
                    contact_phone=phone,
                )  # fmt: skip
        except IntegrityError:
            raise ValidationError(
                {"credit_code": f"统一社会信用代码{code}已注册，请由本组织管理员登录。"}
            ) from None
        member = OrganisationMember.objects.create(
            user=user, organisation=organisation, role=Role.ADMIN, name=member_name[:50]
        )
        audit_record(
            actor=None,
            action="supply.organisation.registered",
            obj=organisation,
            new={"name": name, "credit_code": code, "kind": kind,
                 "contact_phone": mask_phone(phone), "username": username},
        )  # fmt: skip
    return organisation, member


# --- the organisation's 管理员: its own members --------------------------------------------


def member_add(
    *, actor, username: str, name: str, role: str = Role.STAFF
) -> tuple[OrganisationMember, str]:
    """The 管理员 adds a member of its own organisation; returns the row and the one-time
    password."""
    me = _admin_of(actor)
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = ["请选择角色（管理员或工作人员）。"]
    name = _collect(errors, lambda: _clean_text(name, "name", "姓名"))
    username = _collect(errors, lambda: _clean_username(username))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        organisation = locked(Organisation.objects.filter(pk=me.organisation_id)).get()
        user, password = _new_user(username, None)
        member = OrganisationMember.objects.create(
            user=user, organisation=organisation, role=role, name=name
        )
        audit_record(
            actor=actor,
            action="supply.member.added",
            obj=member,
            new={"organisation": organisation.pk, "username": username, "role": role},
        )
    return member, password


def member_deactivate(*, actor, member_id: int) -> OrganisationMember:
    """The 管理员 deactivates a member of its own organisation (another's: PermissionDenied,
    a 404 at the page); never itself."""
    me = _admin_of(actor)
    with transaction.atomic():
        member = locked(
            OrganisationMember.objects.filter(pk=member_id, organisation_id=me.organisation_id)
        ).first()
        require(member is not None)
        if member.pk == me.pk:
            raise ValidationError({"member": "不能停用自己的账号。"})
        if not member.active:
            return member
        member.active = False
        member.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="supply.member.deactivated",
            obj=member,
            old={"active": True},
            new={"active": False},
        )
    return member


# --- the bureau ----------------------------------------------------------------------------


def organisation_deactivate(*, actor, organisation_id: int, reason: str) -> Organisation:
    """The bureau deactivates an organisation: all its members become nobody (they can no
    longer log in to its pages nor apply), with a reason."""
    _bureau(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "停用组织账号时必须说明原因。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "停用原因最多 200 个字。"})
    with transaction.atomic():
        # lock order: the organisation, then its members
        organisation = locked(Organisation.objects.filter(pk=organisation_id)).get()
        if not organisation.active:
            return organisation
        members = list(
            locked(OrganisationMember.objects.filter(organisation=organisation, active=True))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        OrganisationMember.objects.filter(pk__in=members).update(active=False)
        organisation.active = False
        organisation.deactivated_reason = reason
        organisation.save(update_fields=["active", "deactivated_reason"])
        audit_record(
            actor=actor,
            action="supply.organisation.deactivated",
            obj=organisation,
            old={"active": True},
            new={"active": False, "reason": reason, "members_deactivated": members},
        )
    return organisation


def _expert_bureau(actor) -> None:
    require(is_bureau(actor, line=LINE, perm="supply.add_expert"))


def expert_create(*, actor, username: str, name: str, field: str = "") -> tuple[Expert, str]:
    """A new member of the bureau's expert pool; returns it and its one-time password."""
    _expert_bureau(actor)
    errors: dict[str, list[str]] = {}
    name = _collect(errors, lambda: _clean_text(name, "name", "姓名"))
    username = _collect(errors, lambda: _clean_username(username))
    field = (field or "").strip()
    if len(field) > 100:
        errors["field"] = ["专业领域最多 100 个字。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user, password = _new_user(username, None)
        expert = Expert.objects.create(user=user, name=name, field=field)
        audit_record(
            actor=actor,
            action="supply.expert.created",
            obj=expert,
            new={"username": username, "name": name, "field": field},
        )
    return expert, password


def expert_deactivate(*, actor, expert_id: int) -> Expert:
    """Out of the pool: the account becomes nobody; its past scores stay."""
    require(is_bureau(actor, line=LINE, perm="supply.change_expert"))
    with transaction.atomic():
        expert = locked(Expert.objects.filter(pk=expert_id)).get()
        if not expert.active:
            return expert
        expert.active = False
        expert.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="supply.expert.deactivated",
            obj=expert,
            old={"active": True},
            new={"active": False},
        )
    return expert


rate_clear = _limit.clear  # tests start each address afresh


def password_change(*, actor, old_password: str, new_password1: str, new_password2: str):
    """An organisation's member or an expert replaces their password (the one-time initial
    password first of all): the old one, the new one twice, Django's validators. Audited by
    portal.accounts (``auth.password_changed``, never the password) in this transaction."""
    from portal.permissions import is_expert

    require(is_organisation_member(actor) or is_expert(actor))
    return accounts.password_replace(
        actor=actor, old_password=old_password, new_password1=new_password1,
        new_password2=new_password2,
    )  # fmt: skip
