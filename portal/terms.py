"""A district's term moves draft -> active -> closed -> archived, one step at a time, by
bureau staff; its dates are fixed once it is active or a school has filed a plan for it."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal

from portal.access import BUREAU, kind_of
from portal.audit import audit_record
from portal.locks import locked
from portal.models import SchoolPeriod

Status = SchoolPeriod.Status

# Sent inside the transaction that closes a term (term=, actor=): the lines of work end what
# lives under it (after-school: live enrolments completed, waiting places closed,
# afterschool.course_life.on_term_closed). A receiver that raises rolls the close back.
term_closed = Signal()


def term_move(*, actor, term_id: int, to: str) -> SchoolPeriod:
    if kind_of(actor) != BUREAU or not actor.has_perm("portal.change_schoolperiod"):
        raise PermissionDenied
    to = Status(to)
    with transaction.atomic():
        term = locked(SchoolPeriod.objects.filter(pk=term_id)).get()
        current = Status(term.status)
        if current == to:
            return term
        if term.kind != SchoolPeriod.Kind.TERM:
            raise ValidationError("只有学期有状态流转。")
        if to not in SchoolPeriod.TRANSITIONS[current]:
            raise ValidationError(
                f"学期当前为“{current.label}”，不能变为“{to.label}”（不能跳步）。"
            )
        term.status = to
        term.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=f"portal.term.{to}",
            obj=term,
            old={"status": current},
            new={"status": to},
        )
        if to == Status.CLOSED:
            term_closed.send(sender=SchoolPeriod, term=term, actor=actor)
    return term


def dates_fixed(term: SchoolPeriod) -> str | None:
    """Why the term's dates may no longer change, or None."""
    if term.pk is None:
        return None
    if term.status != Status.DRAFT:
        return f"学期已{term.get_status_display()}，起止日期不能再修改。"
    from django.apps import apps

    Plan = apps.get_model("afterschool", "SchoolPlan")  # noqa: N806 (portal must not import it)
    if Plan.objects.filter(term_id=term.pk).exists():
        return "已有学校为本学期报送课后服务方案，起止日期不能再修改。"
    return None
