"""The audit log: who changed which object how, written inside the change's transaction."""

import datetime as dt
import decimal
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model

from portal.models import AuditLog


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def snapshot(obj: Model, fields) -> dict:
    """The values of ``fields`` of ``obj``, ready for an audit row."""
    return {name: _jsonable(getattr(obj, f"{name}_id", getattr(obj, name))) for name in fields}


def audit_record(*, actor, action: str, obj: Model | None = None, old=None, new=None) -> AuditLog:
    """Write one audit row. Must run inside the transaction of the change it records, so
    that the change and its record commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside transaction.atomic()")
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditLog.objects.create(
        actor=user,
        actor_repr=(user.get_username() if user else str(actor or "system"))[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        old=_jsonable(old),
        new=_jsonable(new),
    )
