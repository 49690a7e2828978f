"""The course menu and enrolment: a place is never given twice, a waiting list moves up.

Every enrolment and withdrawal locks the course's row first (lock order: the offering, then
its enrolments), so with many parents at once the count of places taken is read and written
by one transaction at a time. tests/afterschool/test_enrolment_concurrency.py proves it on two
real connections, with a control test that shows the race when the lock is off.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from afterschool import fees
from afterschool.lessons import lessons_generate
from afterschool.models import WEEKDAY_NAMES, Enrolment, Offering, SchoolPlan
from portal.audit import audit_record
from portal.models import Child

LIVE_PLAN = [SchoolPlan.Status.APPROVED, SchoolPlan.Status.IN_EFFECT]


def _no_pause():
    pass


# Tests widen the window between counting the places and writing the enrolment here.
_after_count_read = _no_pause


def _parent_child(user, child_id) -> Child:
    parent = getattr(user, "parent", None)
    if parent is None:
        raise PermissionDenied
    child = parent.children.select_related("school_class", "school").filter(pk=child_id).first()
    if child is None:
        raise PermissionDenied
    return child


def why_not(child: Child, offering: Offering) -> str | None:
    """Why this child cannot enrol in this course, in Chinese; None if they can (apart from
    the places left, which only the locked count decides)."""
    if offering.status != Offering.Status.PUBLISHED:
        return "该课程目前不开放报名。"
    if offering.school_id != child.school_id:
        return "只能报名孩子所在学校的课程。"
    if child.school_class.grade not in offering.grades:
        grades = "、".join(f"{g}年级" for g in sorted(offering.grades))
        return f"该课程面向{grades}，{child.name}在{child.school_class.grade}年级。"
    clash = (
        Enrolment.objects.filter(
            child=child, status=Enrolment.Status.ENROLLED,
            offering__weekday=offering.weekday, offering__start__lt=offering.end,
            offering__end__gt=offering.start,
        )
        .exclude(offering=offering)
        .select_related("offering")
        .first()
    )  # fmt: skip
    if clash is not None:
        return f"与已报名的“{clash.offering}”时间冲突。"
    return None


def _live(offering_id: int, child: Child) -> Enrolment | None:
    return (
        Enrolment.objects.filter(offering_id=offering_id, child=child)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .first()
    )


def enrol(*, user, child_id: int, offering_id: int, lock: bool = True) -> Enrolment:
    """Enrol a parent's own child; a full course puts them on the waiting list (no payment
    is ever asked for a waiting place). Enrolling again returns the live enrolment."""
    child = _parent_child(user, child_id)
    live = _live(offering_id, child)
    if live is not None:
        return live
    # The checks that read other rows (grade, school, the timetable clash) run before the
    # course's lock, so that a burst of parents holds it only for the count and the writes
    # (bench/afterschool_burst.py). The lock of this course would not keep a clash with
    # another course out anyway; what can change under us is the course's own row, read
    # again under the lock.
    problem = why_not(child, Offering.objects.get(pk=offering_id))
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        offerings = Offering.objects.all()
        if lock:
            offerings = offerings.select_for_update(of=("self",))
        offering = offerings.select_related("plan__term").get(pk=offering_id)
        live = _live(offering_id, child)  # a second tap that waited for the first
        if live is not None:
            return live
        if offering.status != Offering.Status.PUBLISHED:
            raise ValidationError("该课程目前不开放报名。")
        taken = Enrolment.objects.filter(
            offering=offering, status=Enrolment.Status.ENROLLED
        ).count()
        _after_count_read()
        status = (
            Enrolment.Status.ENROLLED if taken < offering.capacity else (Enrolment.Status.WAITING)
        )
        enrolment = Enrolment.objects.create(offering=offering, child=child, status=status, by=user)
        audit_record(
            actor=user,
            action=f"afterschool.enrolment.{status}",
            obj=enrolment,
            new={"offering": offering.pk, "child": child.pk},
        )
        if status == Enrolment.Status.ENROLLED:  # a waiting place is never billed
            fees.bill_on_enrolment(enrolment, offering, actor=user)
    return enrolment


def waiting_position(enrolment: Enrolment) -> int | None:
    if enrolment.status != Enrolment.Status.WAITING:
        return None
    from django.db.models import Q

    earlier = Q(created_at__lt=enrolment.created_at) | Q(
        created_at=enrolment.created_at, id__lt=enrolment.id
    )
    ahead = Enrolment.objects.filter(
        earlier, offering_id=enrolment.offering_id, status=Enrolment.Status.WAITING
    ).count()
    return ahead + 1


def withdraw(*, user, enrolment_id: int) -> Enrolment:
    """A parent withdraws their child; a freed place goes to the first on the waiting list,
    an open bill is reissued for the lessons already held, a paid one refunded for the
    lessons from today (afterschool.fees.on_withdrawal)."""
    parent = getattr(user, "parent", None)
    if parent is None:
        raise PermissionDenied
    with transaction.atomic():
        offering_id = Enrolment.objects.values_list("offering_id", flat=True).get(pk=enrolment_id)
        Offering.objects.select_for_update().get(pk=offering_id)  # lock order: offering first
        enrolment = (
            Enrolment.objects.select_for_update(of=("self",))
            .select_related("child", "offering__plan__term")
            .get(pk=enrolment_id)
        )
        if not enrolment.child.parents.filter(pk=parent.pk).exists():
            raise PermissionDenied
        if enrolment.status == Enrolment.Status.WITHDRAWN:
            return enrolment
        was = enrolment.status
        enrolment.status = Enrolment.Status.WITHDRAWN
        enrolment.save(update_fields=["status", "changed_at"])
        audit_record(
            actor=user, action="afterschool.enrolment.withdrawn", obj=enrolment, old={"status": was}
        )
        if was == Enrolment.Status.ENROLLED:
            fees.on_withdrawal(enrolment, actor=user)
            _promote(offering_id, actor=user)
    return enrolment


def _promote(offering_id: int, *, actor) -> Enrolment | None:
    """Move the first waiting child up, in the order they asked (inside the offering lock)."""
    offering = Offering.objects.select_related("plan__term").get(pk=offering_id)
    taken = Enrolment.objects.filter(offering=offering, status=Enrolment.Status.ENROLLED).count()
    if taken >= offering.capacity:
        return None
    first = (
        Enrolment.objects.select_for_update()
        .filter(offering=offering, status=Enrolment.Status.WAITING)
        .order_by("created_at", "id")
        .first()
    )
    if first is None:
        return None
    first.status = Enrolment.Status.ENROLLED
    first.save(update_fields=["status", "changed_at"])
    audit_record(
        actor=actor,
        action="afterschool.enrolment.promoted",
        obj=first,
        old={"status": "waiting"},
        new={"status": "enrolled"},
    )
    fees.bill_on_enrolment(first, offering, actor=actor)
    return first


def offering_publish(*, user, offering_id: int) -> Offering:
    """School staff open a course for enrolment: its plan approved or in effect, and a
    provider's course only under a current contract of an admitted provider."""
    from afterschool.models import Provider

    staff = getattr(user, "school_staff", None)
    if staff is None:
        raise PermissionDenied
    with transaction.atomic():
        offering = (
            Offering.objects.select_for_update(of=("self",))
            .select_related("plan", "contract__provider")
            .get(pk=offering_id, school_id=staff.school_id)
        )
        if offering.plan.status not in LIVE_PLAN:
            raise ValidationError("本学期课后服务方案尚未批准，课程不能开放报名。")
        if offering.contract_id and offering.contract.provider.status != (Provider.Status.ADMITTED):
            raise ValidationError("该第三方机构不在准入名单内，课程不能开放报名。")
        if offering.weekday not in offering.plan.weekdays:
            raise ValidationError(f"方案中没有安排周{WEEKDAY_NAMES[offering.weekday]}的课后服务。")
        if offering.status == Offering.Status.PUBLISHED:
            return offering
        offering.status = Offering.Status.PUBLISHED
        offering.save(update_fields=["status"])
        created, note = lessons_generate(offering)
        audit_record(actor=user, action="afterschool.offering.published", obj=offering,
                     new={"lessons": created, "note": note})  # fmt: skip
    offering.lessons_note = note
    return offering
