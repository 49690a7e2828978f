"""A course's life: draft -> published -> (cancelled | finished), and what a term's close
ends under it.

* Cancel (the school's principal or 教导处, with a reason, before or during the course): the
  lessons not yet started are cancelled, the waiting places closed, every enrolment ended,
  each bill gives back its untaken lessons under the school's rule through the fee ledger
  (``fees.on_course_cancelled``: a paid bill refunded, an unpaid one reduced or cancelled,
  nothing twice), and each parent is told once, when it commits.
* Finish: automatic, the night after the course's last lesson (``offerings_finish``, a
  Celery task): the places become "已结课" and the parents may rate the course.
* A term closed (portal.terms): its live enrolments are completed, its waiting places
  closed, its published courses finished; they leave the parents' menu.

Lock order as everywhere in the app: the Offering row, then its Lesson rows, then its
Enrolment rows, then their leave requests and bills.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from afterschool import fees
from afterschool.enrolment import withdraw_pending_leaves
from afterschool.lessons import is_manager, local_now, starts_at
from afterschool.models import Enrolment, Lesson, Offering
from portal.audit import audit_record
from portal.locks import locked
from portal.models import Parent
from portal.notices import notify
from portal.permissions import is_school_manager, require

LIVE = [Enrolment.Status.ENROLLED, Enrolment.Status.WAITING]


def may_cancel(user, offering: Offering) -> bool:
    return offering.status in (Offering.Status.DRAFT, Offering.Status.PUBLISHED) and is_manager(
        user, offering.school_id
    )


def _end(enrolment: Enrolment, to: str, *, actor, reason: str):
    was = enrolment.status
    enrolment.status = to
    enrolment.save(update_fields=["status", "changed_at"])
    audit_record(
        actor=actor,
        action=f"afterschool.enrolment.{to}",
        obj=enrolment,
        old={"status": was},
        new={"reason": reason},
    )
    withdraw_pending_leaves(enrolment, actor=actor)
    return was


def offering_cancel(*, user, offering_id: int, reason: str, now=None) -> Offering:
    """Cancel a course (see the module's docstring); cancelling again changes nothing."""
    require(is_school_manager(user))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "取消课程必须说明原因。"})
    now = local_now(now)
    with transaction.atomic():
        offering = locked(
            Offering.objects.select_related("plan__term", "school"), of=("self",)
        ).get(pk=offering_id)
        if not is_manager(user, offering.school_id):
            raise PermissionDenied
        if offering.status == Offering.Status.CANCELLED:
            return offering
        if offering.status not in (Offering.Status.DRAFT, Offering.Status.PUBLISHED):
            raise ValidationError(f"课程{offering.get_status_display()}，不能再取消。")
        old_status = offering.status
        lessons = [
            lesson
            for lesson in locked(
                Lesson.objects.filter(offering=offering, status=Lesson.Status.SCHEDULED),
                of=("self",),
            ).order_by("date", "start", "pk")
            if starts_at(lesson) > now
        ]
        for lesson in lessons:
            lesson.status = Lesson.Status.CANCELLED
            lesson.cancel_reason = f"课程取消：{reason}"[:200]
            lesson.save(update_fields=["status", "cancel_reason"])
        enrolments = list(
            locked(
                Enrolment.objects.filter(offering=offering, status__in=LIVE).select_related(
                    "child"
                ),
                of=("self",),
            ).order_by("pk")
        )
        money = {}
        for enrolment in enrolments:
            enrolment.offering = offering
            was = _end(
                enrolment, Enrolment.Status.WITHDRAWN, actor=user, reason=f"课程取消：{reason}"
            )
            if was == Enrolment.Status.ENROLLED:
                money[enrolment.child_id] = fees.on_course_cancelled(enrolment, actor=user)
        offering.status = Offering.Status.CANCELLED
        offering.cancel_reason = reason[:200]
        offering.ended_at = timezone.now()
        offering.save(update_fields=["status", "cancel_reason", "ended_at"])
        refunded = sum((m["refunded"] for m in money.values()), Decimal("0.00"))
        audit_record(
            actor=user,
            action="afterschool.offering.cancelled",
            obj=offering,
            old={"status": old_status},
            new={
                "reason": reason,
                "lessons_cancelled": [lesson.pk for lesson in lessons],
                "enrolments_ended": [e.pk for e in enrolments],
                "refunded": refunded,
            },
        )
        _tell_of_cancel(offering, enrolments, money, reason)
    return offering


def _tell_of_cancel(offering: Offering, enrolments, money: dict, reason: str):
    """Each parent once (one notice per parent and course, whatever the number of their
    children in it), saying what happened to each child's fees."""
    lines: dict[int, list[str]] = {}
    parents = Parent.objects.filter(children__in=[e.child_id for e in enrolments]).values_list(
        "user_id", "children"
    )
    child_parents: dict[int, list[int]] = {}
    for user_id, child_id in parents:
        child_parents.setdefault(child_id, []).append(user_id)
    for enrolment in enrolments:
        done = money.get(enrolment.child_id)
        if done is None:
            what = "候补名额已取消"
        elif done["refunded"] > 0:
            what = f"已缴费用按学校规则退还 {done['refunded']} 元"
        elif done["cancelled"] and not done["reissued"]:
            what = "未缴账单已作废"
        elif done["reissued"]:
            what = "未缴账单已按已上课次重开"
        else:
            what = "无需退费"
        for user_id in child_parents.get(enrolment.child_id, []):
            lines.setdefault(user_id, []).append(f"{enrolment.child.name}：{what}")
    for user_id, parts in lines.items():
        notify(
            [user_id],
            key=f"offering:{offering.pk}:cancelled",
            message=f"课后服务课程“{offering.name}”已取消：{reason}。" + "；".join(parts) + "。",
            url="/afterschool/bills/",
        )


# --- finishing ----------------------------------------------------------------------------


def _last_lesson_day(offering_id: int) -> dt.date | None:
    return (
        Lesson.objects.filter(offering_id=offering_id)
        .exclude(status=Lesson.Status.CANCELLED)
        .aggregate(last=Max("date"))["last"]
    )


def offering_finish(offering_id: int, *, today: dt.date | None = None, actor=None) -> bool:
    """Finish a published course whose last lesson (not cancelled) was before ``today``:
    its places become "已结课" (ratings open), its waiting places close. False when it is
    not due (or already finished)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        offering = locked(Offering.objects.all(), of=("self",)).get(pk=offering_id)
        if offering.status != Offering.Status.PUBLISHED:
            return False
        last = _last_lesson_day(offering.pk)
        if last is None or last >= today:
            return False
        ended = _end_all(offering, actor=actor, reason="课程结课")
        offering.status = Offering.Status.FINISHED
        offering.ended_at = timezone.now()
        offering.save(update_fields=["status", "ended_at"])
        audit_record(
            actor=actor,
            action="afterschool.offering.finished",
            obj=offering,
            old={"status": Offering.Status.PUBLISHED},
            new={"last_lesson": last, **ended},
        )
        users = Parent.objects.filter(
            children__enrolments__offering=offering,
            children__enrolments__status=Enrolment.Status.COMPLETED,
        ).values_list("user_id", flat=True)
        notify(
            users,
            key=f"offering:{offering.pk}:finished",
            message=f"课后服务课程“{offering.name}”已结课，欢迎为课程评价。",
            url="/afterschool/attendance/",
        )
    return True


def _end_all(offering: Offering, *, actor, reason: str) -> dict:
    """Places completed, waiting places withdrawn (inside the offering lock)."""
    completed, closed = [], []
    for enrolment in locked(
        Enrolment.objects.filter(offering=offering, status__in=LIVE), of=("self",)
    ).order_by("pk"):
        if enrolment.status == Enrolment.Status.ENROLLED:
            _end(enrolment, Enrolment.Status.COMPLETED, actor=actor, reason=reason)
            completed.append(enrolment.pk)
        else:
            _end(enrolment, Enrolment.Status.WITHDRAWN, actor=actor, reason=reason)
            closed.append(enrolment.pk)
    return {"completed": completed, "waiting_closed": closed}


def due_for_finish(today: dt.date):
    """Published courses whose last lesson (not cancelled) was before ``today``."""
    return (
        Offering.objects.filter(status=Offering.Status.PUBLISHED)
        .annotate(last=Max("lessons__date", filter=~Q(lessons__status=Lesson.Status.CANCELLED)))
        .filter(last__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def offerings_finish(today: dt.date | None = None) -> int:
    """The nightly run: finish every course due, one transaction each."""
    today = today or timezone.localdate()
    return sum(1 for pk in list(due_for_finish(today)) if offering_finish(pk, today=today))


# --- a term closed ------------------------------------------------------------------------


def on_term_closed(sender=None, *, term, actor, **kwargs):
    """portal.terms.term_closed (inside the term's transaction): every course of the term
    ends — places completed, waiting places closed, published courses finished."""
    offering_ids = list(
        Offering.objects.filter(plan__term_id=term.pk)
        .filter(Q(status=Offering.Status.PUBLISHED) | Q(enrolments__status__in=LIVE))
        .order_by("pk")
        .distinct()
        .values_list("pk", flat=True)
    )
    for pk in offering_ids:  # primary-key order, like every lock of the app
        offering = locked(Offering.objects.all(), of=("self",)).get(pk=pk)
        ended = _end_all(offering, actor=actor, reason=f"{term.name}已结束")
        old = offering.status
        if old == Offering.Status.PUBLISHED:
            offering.status = Offering.Status.FINISHED
            offering.ended_at = timezone.now()
            offering.save(update_fields=["status", "ended_at"])
        audit_record(
            actor=actor,
            action="afterschool.offering.term_closed",
            obj=offering,
            old={"status": old},
            new={"status": offering.status, "term": term.pk, **ended},
        )
    return len(offering_ids)
