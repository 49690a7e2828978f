"""Parents' phone numbers: masked wherever the portal shows them (138****5678, the admin's
list and change pages included); the full number only to staff holding the dedicated
permission ``portal.view_parent_phone``, one deliberate "show" at a time, each recorded in
the audit log (``portal.parent.phone_shown``) before the number is shown.

Why a permission of its own and not ``change_parent``: correcting a parent's record does not
need the number (a new one is typed in, the old one is never shown), while seeing it is what
a data-protection officer must be able to account for. No staff group holds it by default;
the superuser gives it to the few who phone parents (and the superuser, who implicitly holds
every permission, is audited the same way)."""

from django.db import transaction

from portal.audit import audit_record
from portal.models import Parent
from portal.permissions import require

PHONE_PERM = "portal.view_parent_phone"


def may_see_phone(user) -> bool:
    """Staff holding ``portal.view_parent_phone`` (or the superuser)."""
    return bool(user.is_active and user.is_staff and user.has_perm(PHONE_PERM))


def parent_phones_show(*, actor, parent_ids) -> list[tuple[Parent, str]]:
    """The full numbers of the parents ``parent_ids``, one audit row each, written before
    anything is shown (the caller renders the numbers only after this returns)."""
    require(may_see_phone(actor))
    ids = sorted({int(pk) for pk in parent_ids})
    with transaction.atomic():
        parents = list(Parent.objects.filter(pk__in=ids).order_by("name", "pk"))
        for parent in parents:
            audit_record(
                actor=actor,
                action="portal.parent.phone_shown",
                obj=parent,
                new={"phone": parent.masked_phone},
            )
    return [(parent, parent.phone) for parent in parents]
