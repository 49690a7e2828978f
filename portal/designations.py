"""Staff a principal designates for a duty of their school: the care staff of the care ledger
(关爱帮扶专干, governance.CareStaff) and the homework review group (作业审核小组,
homework.ReviewMember). Each duty is its own model (school, staff, designated_by,
designated_at); this module is the one way to add and remove a member, used by both, so
the lock, the idempotence and the audit are the same everywhere.

The caller checks who may (a principal: ``portal.permissions.is_principal``).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit import audit_record
from portal.locks import locked
from portal.models import SchoolStaff


def school_staff_of(actor, staff_id, field: str = "staff", label: str = "教职工"):
    """A staff member of the actor's own school by id (None for an empty value); another
    school's or a malformed id is refused naming ``field``."""
    if staff_id in (None, ""):
        return None
    try:
        return SchoolStaff.objects.get(pk=int(staff_id), school_id=actor.school_staff.school_id)
    except (SchoolStaff.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field: f"{label}：请选择本校教职工。"}) from None


def designate(model, *, actor, staff_id, action: str):
    """Make the staff member a member of ``model``'s duty (already one: returned as is)."""
    with transaction.atomic():
        staff = school_staff_of(actor, staff_id)
        if staff is None:
            raise ValidationError({"staff": "教职工：请选择本校教职工。"})
        locked(SchoolStaff.objects.filter(pk=staff.pk)).get()  # one designation at a time
        existing = model.objects.filter(staff=staff).first()
        if existing is not None:
            return existing
        row = model.objects.create(school_id=staff.school_id, staff=staff, designated_by=actor)
        audit_record(actor=actor, action=action, obj=row, new={"staff": staff.pk})
    return row


def undesignate(model, *, actor, staff_id, action: str, not_member: str) -> None:
    """Take the staff member off ``model``'s duty; ``not_member`` says they were not on it."""
    with transaction.atomic():
        staff = school_staff_of(actor, staff_id)
        row = staff and locked(model.objects.filter(staff=staff)).first()
        if row is None:
            raise ValidationError({"staff": f"教职工：{not_member}"})
        audit_record(actor=actor, action=action, obj=row, old={"staff": staff.pk})
        row.delete()
