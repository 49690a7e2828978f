"""Every write of the care ledger (关爱帮扶 一人一档), and its audited reads.

Each service opens its transaction, checks who may (governance/care_selectors.py decides
who sees a record: the pupil's head teacher, the principal, the designated care staff),
validates (a ValidationError naming the field, in Chinese), writes and audits. Reading a
record is audited too (``record_read``, action ``governance.care.read``): the ledger holds
the most sensitive facts the portal keeps about a child.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from governance import care_selectors as sel
from governance.care_models import CareContact, CareRecord, CareStaff
from portal import designations
from portal.audit import audit_record
from portal.locks import locked
from portal.models import SchoolStaff
from portal.permissions import require

NEED_MAX = 300
NOTES_MAX = 1000


def _no_pause():
    pass


# Tests widen the window between checking that a pupil has no record and writing one
# (_pause), and switch the row lock off for the control test that shows the race (_lock).
_pause = _no_pause
_lock = locked


def _check_categories(categories) -> list[str]:
    allowed = list(settings.PORTAL_CARE_CATEGORIES)
    chosen = [c for c in dict.fromkeys(categories or []) if c]
    if not chosen:
        raise ValidationError({"categories": "关爱类别：请至少选择一项。"})
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise ValidationError(
            {"categories": f"关爱类别：“{'、'.join(unknown)}”不在区教育局设定的类别中。"}
        )
    return [c for c in allowed if c in chosen]


def _check_need(need) -> str:
    need = (need or "").strip()
    if len(need) > NEED_MAX:
        raise ValidationError({"need": f"帮扶需求：最多 {NEED_MAX} 个字。"})
    return need


def _school_staff(actor, staff_id, field: str, label: str) -> SchoolStaff | None:
    return designations.school_staff_of(actor, staff_id, field, label)


# --- care staff (关爱帮扶专干), kept by the principal -------------------------------------------


def care_staff_designate(*, actor, staff_id) -> CareStaff:
    require(sel.is_principal(actor))
    return designations.designate(
        CareStaff, actor=actor, staff_id=staff_id, action="governance.care.staff_designated"
    )


def care_staff_remove(*, actor, staff_id) -> None:
    require(sel.is_principal(actor))
    designations.undesignate(
        CareStaff, actor=actor, staff_id=staff_id, action="governance.care.staff_removed",
        not_member="该教职工不是关爱帮扶专干。",
    )  # fmt: skip


# --- records ---------------------------------------------------------------------------------


def record_open(*, actor, child_id, categories, need="", contact_id=None) -> CareRecord:
    """Open a pupil's record: by the principal, the care staff, or the pupil's head teacher."""
    require(sel.may_use_care(actor))
    with transaction.atomic():
        try:
            child_pk = int(child_id)
        except (TypeError, ValueError):
            raise ValidationError({"child": "学生：请选择学生。"}) from None
        # the child row locked: two openings of the same pupil's record are serialised and
        # the second sees the first (the one-to-one key would refuse it anyway, as a 500)
        rows = sel.visible_children(actor).filter(pk=child_pk).select_related(None)
        child = _lock(rows, of=("self",)).first()
        if child is None:
            raise ValidationError({"child": "学生：只能为本人可见的学生（本班或本校）建档。"})
        if CareRecord.objects.filter(child=child).exists():
            raise ValidationError({"child": "学生：该学生已有关爱档案。"})
        _pause()
        cats = _check_categories(categories)
        need = _check_need(need)
        contact = _school_staff(actor, contact_id, "contact", "联系教师")
        record = CareRecord.objects.create(
            child=child, school_id=child.school_id, categories=cats, need=need, contact=contact,
            opened_on=timezone.localdate(), created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="governance.care.opened", obj=record,
            new={"child": child.pk, "categories": cats, "contact": contact},
        )  # fmt: skip
    return record


def _visible_locked(actor, record_id) -> CareRecord:
    try:
        pk = int(record_id)
    except (TypeError, ValueError):
        raise Http404 from None
    # the record row only (not the joined child and class rows the visibility filter reads)
    record = locked(sel.visible_records(actor).filter(pk=pk), of=("self",)).first()
    if record is None:
        raise Http404
    return record


def record_update(*, actor, record_id, categories, need="", contact_id=None) -> CareRecord:
    require(sel.may_use_care(actor))
    with transaction.atomic():
        record = _visible_locked(actor, record_id)
        if not record.is_open:
            raise ValidationError({"categories": "该档案已结档，不能修改。"})
        old = {"categories": record.categories, "need": record.need, "contact": record.contact_id}
        record.categories = _check_categories(categories)
        record.need = _check_need(need)
        contact = _school_staff(actor, contact_id, "contact", "联系教师")
        record.contact = contact
        new = {"categories": record.categories, "need": record.need, "contact": record.contact_id}
        if new == old:
            return record
        record.save(update_fields=["categories", "need", "contact"])
        audit_record(actor=actor, action="governance.care.updated", obj=record, old=old, new=new)
    return record


def record_close(*, actor, record_id) -> CareRecord:
    """结档 (the pupil no longer needs care, or left): only the principal or care staff."""
    require(sel.sees_whole_school(actor))
    with transaction.atomic():
        record = _visible_locked(actor, record_id)
        if not record.is_open:
            return record
        record.closed_on = timezone.localdate()
        record.save(update_fields=["closed_on"])
        audit_record(
            actor=actor, action="governance.care.closed", obj=record,
            new={"closed_on": record.closed_on},
        )  # fmt: skip
    return record


def record_read(*, actor, record_id, purpose: str = "detail") -> CareRecord:
    """The record, if ``actor`` may read it (else 404), with the read audited."""
    require(sel.may_use_care(actor))
    try:
        pk = int(record_id)
    except (TypeError, ValueError):
        raise Http404 from None
    with transaction.atomic():
        record = (
            sel.visible_records(actor)
            .select_related("child", "child__school_class", "contact")
            .filter(pk=pk)
            .first()
        )
        if record is None:
            raise Http404
        audit_record(actor=actor, action="governance.care.read", obj=record,
                     new={"page": purpose})  # fmt: skip
    return record


# --- visits and talks ------------------------------------------------------------------------


def contact_log(*, actor, record_id, date, form, notes, by_id=None) -> CareContact:
    """Log a home visit or talk on a record the actor may read; ``by_id``: who went (a staff
    member of the school; the actor when not given)."""
    require(sel.may_use_care(actor))
    with transaction.atomic():
        # the record locked: a visit is never logged on a record being closed at this moment
        record = _visible_locked(actor, record_id)
        errors = {}
        if not record.is_open:
            raise ValidationError({"date": "该档案已结档，不能再登记。"})
        if not isinstance(date, dt.date):
            errors["date"] = "日期：请填写日期（年-月-日）。"
        elif date > timezone.localdate():
            errors["date"] = "日期：不能晚于今天。"
        if form not in CareContact.Form.values:
            errors["form"] = "形式：请选择家访、电话、谈心或线上。"
        notes = (notes or "").strip()
        if not notes:
            errors["notes"] = "情况记录：请填写。"
        elif len(notes) > NOTES_MAX:
            errors["notes"] = f"情况记录：最多 {NOTES_MAX} 个字。"
        try:
            by = _school_staff(actor, by_id, "by", "走访教师") or actor.school_staff
        except ValidationError as exc:
            errors.update(exc.message_dict)
            by = None
        if errors:
            raise ValidationError(errors)
        row = CareContact.objects.create(record=record, date=date, form=form, by=by, notes=notes)
        audit_record(
            actor=actor, action="governance.care.contact_logged", obj=row,
            new={"record": record.pk, "date": date, "form": form, "by": by.pk},
        )  # fmt: skip
    return row
