"""Reads of lunch-break care (午托): the school's months, a parent's choices, the monthly
report of pupils per arrangement per school."""

import datetime as dt

from django.db.models import Count, Q

from afterschool.lunch_models import LunchChoice, LunchMonth
from afterschool.models import Enrolment, Lesson, Offering
from portal.access import BUREAU, PARENT, SCHOOL, kind_of, scope
from portal.permissions import is_bureau, is_school_manager

ENROLLED, WAITING = Enrolment.Status.ENROLLED, Enrolment.Status.WAITING
BED, DESK = LunchChoice.Arrangement.BED, LunchChoice.Arrangement.DESK


def is_school_user(user) -> bool:
    return kind_of(user) == SCHOOL


def is_parent(user) -> bool:
    return kind_of(user) == PARENT


def may_report(user) -> bool:
    """The monthly report: the principal or 教导处 (their school), bureau staff of the
    after-school line (every school)."""
    return is_school_manager(user) or is_bureau(user, "afterschool")


def _counted(qs):
    on = "offering__enrolments__"
    return qs.annotate(
        seats_taken=Count(f"{on}pk", filter=Q(**{f"{on}status": ENROLLED}), distinct=True),
        beds_taken=Count(f"{on}pk", filter=Q(**{f"{on}status": ENROLLED,
                                                f"{on}lunch_choice__arrangement": BED}),
                         distinct=True),
        waiting=Count(f"{on}pk", filter=Q(**{f"{on}status": WAITING}), distinct=True),
    )  # fmt: skip


def months(user):
    """The months of lunch care the user may see, with seats and beds taken and waiting."""
    return _counted(
        scope(LunchMonth.objects.select_related("offering", "school", "offering__room"), user)
    ).order_by("-month", "school__name")


def month_enrolments(lunch: LunchMonth):
    return (
        Enrolment.objects.filter(offering_id=lunch.offering_id, status__in=[ENROLLED, WAITING])
        .select_related("child__school_class", "lunch_choice")
        .order_by("status", "created_at", "id")
    )


def month_lessons(lunch: LunchMonth):
    return Lesson.objects.filter(offering_id=lunch.offering_id).order_by("date", "start")


def lunch_lessons(user):
    return scope(
        Lesson.objects.filter(offering__kind=Offering.Kind.LUNCH).select_related(
            "offering__lunch_month", "offering__school"
        ),
        user,
    )


def parent_view(user, today: dt.date):
    """For each of the parent's children: the months of their school not yet over, each
    with the child's live enrolment (or None)."""
    parent = user.parent
    children = list(scope(parent.children.select_related("school", "school_class"), user))
    lunch = list(
        _counted(
            LunchMonth.objects.filter(
                school_id__in={c.school_id for c in children},
                offering__status=Offering.Status.PUBLISHED,
                offering__ends_on__gte=today,
            ).select_related("offering")
        ).order_by("month")
    )
    live = {
        (e.offering_id, e.child_id): e
        for e in Enrolment.objects.filter(
            child__in=children, offering__kind=Offering.Kind.LUNCH, status__in=[ENROLLED, WAITING]
        ).select_related("lunch_choice", "offering__lunch_month", "child")
    }
    return [
        (child, [(m, live.get((m.offering_id, child.pk))) for m in lunch
                 if m.school_id == child.school_id])
        for child in children
    ]  # fmt: skip


def report(user, month: dt.date) -> list[dict]:
    """Pupils per arrangement per school for one month (one query): places by 平躺睡 and 趴睡,
    and the waiting list; the schools the user may see."""
    rows = (
        scope(LunchMonth.objects.filter(month=month.replace(day=1)), user)
        .values("school_id", "school__name", "offering__capacity", "beds", "fee_per_month")
        .annotate(
            bed=Count("offering__enrolments", filter=Q(
                offering__enrolments__status=ENROLLED,
                offering__enrolments__lunch_choice__arrangement=BED)),
            desk=Count("offering__enrolments", filter=Q(
                offering__enrolments__status=ENROLLED,
                offering__enrolments__lunch_choice__arrangement=DESK)),
            waiting=Count("offering__enrolments", filter=Q(
                offering__enrolments__status=WAITING)),
        )
        .order_by("school__name", "school_id")
    )  # fmt: skip
    return [
        {"school": r["school__name"], "seats": r["offering__capacity"], "beds": r["beds"],
         "fee": r["fee_per_month"], "bed": r["bed"], "desk": r["desk"],
         "total": r["bed"] + r["desk"], "waiting": r["waiting"]}
        for r in rows
    ]  # fmt: skip


def sees_all_schools(user) -> bool:
    return kind_of(user) == BUREAU
