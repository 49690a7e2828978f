"""Accounts at the edge: who changed a password (audited, never the password), and how many
failed logins lock whom (django-axes, per user + address and per address).

Password changes. Django sends no signal when a password changes, and it changes by many
doors: the admin's "change password" form for another user, the admin's own password
page, ``manage.py changepassword``, a reset link if one is ever added, code calling
``set_password``. The one point they all pass is ``User.save()``, so a ``pre_save`` handler
compares the hash about to be written with the stored one and ``post_save`` writes
``auth.password_changed`` inside ``transaction.atomic()`` (the caller's transaction when it
has one: the admin's pages through ``PortalUserAdmin``; its own otherwise). Not counted:
a new user's first password (also when set in a second save of a row whose password is
still empty), and the hash upgrade Django does at login when the hasher's
parameters change (``check_password``'s setter saves only "password" with ``_password``
cleared: same password, new hash; a hash assigned directly to ``user.password`` and saved
with ``update_fields=["password"]`` looks the same and is not counted either). Who did it
comes from the request (``ActingUserMiddleware``); outside a request (a management
command) it is "system".

Login throttling. ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]``
with one ``AXES_FAILURE_LIMIT`` would lock an address after as few failures as a single
account: a school's whole staff behind one NAT address would be locked out together after
five typos among them. Axes compares the largest count of the parameter sets with one
limit (AXES_FAILURE_LIMIT may be a callable, but it is given the request and credentials,
not which parameter set it limits), so ``LoginThrottle`` gives the address its own, higher
limit (``PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT``, default 30 within the cool-off): it counts
the address-only failures scaled to the per-user limit, so that reaching the address limit
is exactly reaching AXES_FAILURE_LIMIT.
"""

import contextvars

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from django.conf import settings
from django.contrib.auth import password_validation
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

_acting = contextvars.ContextVar("portal_acting_user", default=None)


# --- who is acting -------------------------------------------------------------------------


class ActingUserMiddleware:
    """Remember the request's user for the password audit (signals see no request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _acting.set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            _acting.reset(token)


def acting_user():
    user = _acting.get()
    return user if getattr(user, "is_authenticated", False) else None


# --- password changes ----------------------------------------------------------------------


def _before_user_save(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._portal_password_changed = False
    if raw or instance._state.adding or instance.pk is None:
        return  # fixtures; a new user's first password is not a change
    if update_fields is not None and "password" not in update_fields:
        return  # last_login on every login: no query
    if update_fields is not None and set(update_fields) == {"password"}:
        if getattr(instance, "_password", None) is None:
            return  # the login's hash upgrade: same password, new hash
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True)
    stored = stored.first()
    # "" is a row saved before its first password (create, then set_password): not a change
    instance._portal_password_changed = bool(stored) and stored != instance.password


def _after_user_save(sender, instance, created=False, raw=False, **kwargs):
    if not getattr(instance, "_portal_password_changed", False):
        return
    instance._portal_password_changed = False
    password_changed_audit(user=instance, actor=acting_user())


def password_changed_audit(*, user, actor) -> None:
    """The audit row of a password change: who, whose; never the password nor its hash."""
    from portal.audit import audit_record

    with transaction.atomic():
        audit_record(
            actor=actor,
            action="auth.password_changed",
            obj=user,
            new={"user": user.get_username(), "by_self": actor is not None and actor == user},
        )


def connect_signals():
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save, pre_save

    user_model = get_user_model()
    pre_save.connect(_before_user_save, sender=user_model, dispatch_uid="portal.pw.pre")
    post_save.connect(_after_user_save, sender=user_model, dispatch_uid="portal.pw.post")


# --- login throttling ----------------------------------------------------------------------


class LoginThrottle(AxesDatabaseHandler):
    """Axes' database handler with a separate, higher limit for an address alone."""

    def get_failures(self, request, credentials=None) -> int:
        per_user = settings.AXES_FAILURE_LIMIT
        per_address = settings.PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT
        params = get_lockout_parameters(request, credentials)
        counts = []
        # get_user_attempts gives one queryset per entry of AXES_LOCKOUT_PARAMETERS, in order
        for param, attempts in zip(
            params, self.get_user_attempts(request, credentials), strict=True
        ):
            n = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if param == "ip_address":
                # n >= per_address  <=>  n * per_user // per_address >= per_user
                n = n * per_user // per_address
            counts.append(n)
        return max(counts, default=0)


# --- password rules ------------------------------------------------------------------------


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with its message in Chinese: Django 5.2 changed the message's msgid to
    "%d character(s)" and its zh_Hans catalog still translates the older "%(min_length)d"
    one, so the refusal came out in English on a Chinese page."""

    def get_error_message(self):
        return _("密码太短，至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

    def get_help_text(self):
        return _("密码至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}


def password_replace(*, actor, old_password: str, new_password1: str, new_password2: str):
    """A signed-in user replaces their password (the one-time initial password first of all):
    the old one, the new one twice, Django's validators; a refusal names the field. Audited
    by this module's signal (``auth.password_changed``, never the password) in the same
    transaction. The caller has checked who may (institution staff, organisation members,
    experts: each kind's own service)."""
    from django.contrib.auth.forms import PasswordChangeForm
    from django.core.exceptions import ValidationError

    form = PasswordChangeForm(
        actor,
        data={"old_password": old_password, "new_password1": new_password1,
              "new_password2": new_password2},
    )  # fmt: skip
    if not form.is_valid():
        raise ValidationError({k: list(v) for k, v in form.errors.items()})
    with transaction.atomic():
        form.save()
    return actor
