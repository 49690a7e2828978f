"""Writes of the shared core that no app service owns: the admin's generic save and delete
of an audited model, and marking a user's inbox read.

Each function opens its own transaction and writes the audit row inside it, so that the
change and its record commit or roll back together whoever calls it (an admin change view
that is already atomic, or the admin's bulk delete action, which is not)."""

from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms.models import model_to_dict
from django.utils import timezone

from portal.audit import audit_record
from portal.models import mask_phone


def _action(model, verb: str) -> str:
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}.{verb}"


SECRET_FIELDS = {"password"}  # a user's password hash never goes into the audit log
MASKED_FIELDS = {"phone"}  # a parent's phone number only masked, there too (portal.privacy)


def _values(obj: Model, fields=None) -> dict:
    data = model_to_dict(obj)
    keys = data.keys() if fields is None else fields
    return {
        k: mask_phone(data.get(k)) if k in MASKED_FIELDS else data.get(k)
        for k in keys
        if k not in SECRET_FIELDS
    }


def save_audited(*, actor, obj: Model, fields=(), created: bool | None = None) -> Model:
    """Save ``obj`` and audit it: "created", or "changed" with the old and new values of
    ``fields`` (the fields the form changed)."""
    if created is None:
        created = obj._state.adding
    with transaction.atomic():
        old = None
        if not created and obj.pk is not None and fields:
            before = type(obj)._default_manager.filter(pk=obj.pk).first()
            old = _values(before, fields) if before is not None else None
        obj.save()
        audit_record(
            actor=actor,
            action=_action(type(obj), "created" if created else "changed"),
            obj=obj,
            old=old,
            new=_values(obj, fields),
        )
    return obj


def delete_audited(*, actor, obj: Model) -> None:
    """Delete ``obj``; its last values stay in the audit row."""
    with transaction.atomic():
        audit_record(actor=actor, action=_action(type(obj), "deleted"), obj=obj, old=_values(obj))
        obj.delete()


def delete_audited_queryset(*, actor, queryset: QuerySet) -> int:
    """Delete every row of ``queryset`` (the admin's bulk delete), one audit row each, all in
    one transaction: either all go with their records or none does."""
    with transaction.atomic():
        rows = list(queryset)
        for obj in rows:
            audit_record(
                actor=actor,
                action=_action(queryset.model, "deleted"),
                obj=obj,
                old=_values(obj),
            )
        queryset.model._default_manager.filter(pk__in=[o.pk for o in rows]).delete()
    return len(rows)


def inbox_mark_read(*, user) -> int:
    """Mark every unread notice of ``user`` read; audited with the count."""
    with transaction.atomic():
        count = user.notices.filter(read_at__isnull=True).update(read_at=timezone.now())
        if count:
            audit_record(actor=user, action="portal.notice.read_all", new={"count": count})
    return count
