"""Reads the after-school pages, the dashboard and the reports share."""

import datetime as dt

from django.db.models import Avg, Count, Exists, Max, OuterRef, Q

from afterschool.models import Enrolment, Lesson, Offering, Rating, SchoolPlan, TermSurvey
from portal.models import Child, School

# a child who held a place to the end (or holds it still) rates the course
TOOK = [Enrolment.Status.ENROLLED, Enrolment.Status.COMPLETED]


def ended_offerings(user, today: dt.date):
    """The parent's children's courses that finished or whose last lesson (not cancelled)
    has passed: ratable (a cancelled course is not)."""
    return (
        Offering.objects.filter(enrolments__child__parents__user=user, enrolments__status__in=TOOK)
        .exclude(status=Offering.Status.CANCELLED)
        .annotate(last=Max("lessons__date", filter=~Q(lessons__status=Lesson.Status.CANCELLED)))
        .filter(Q(status=Offering.Status.FINISHED) | Q(last__lt=today))
        .distinct()
    )


def unrated_children(user, offering_id: int):
    """The parent's children who took the course and have not rated it (one rating per
    child and course)."""
    return (
        Child.objects.filter(
            parents__user=user,
            enrolments__offering_id=offering_id,
            enrolments__status__in=TOOK,
        )
        .exclude(as_ratings__offering_id=offering_id)
        .distinct()
        .order_by("name", "pk")
    )


def ratable_offerings(user, today: dt.date):
    """Ended courses with a child of the parent who has not rated them yet."""
    unrated = Enrolment.objects.filter(
        offering=OuterRef("pk"), child__parents__user=user, status__in=TOOK
    ).exclude(child__as_ratings__offering=OuterRef("pk"))
    return ended_offerings(user, today).filter(Exists(unrated))


def survey_terms(user, today: dt.date) -> set:
    """(school, term) pairs the parent may answer: a child enrolled in the school's courses
    under a plan of that term."""
    plans = (
        SchoolPlan.objects.filter(
            offerings__enrolments__child__parents__user=user,
            offerings__enrolments__status__in=TOOK,
            term__start__lte=today,
        )
        .select_related("school", "term")
        .distinct()
    )
    return {(p.school, p.term) for p in plans}


def school_rates(term_start: dt.date, term_end: dt.date, district=None):
    """Participation (children with a place in a course of the term / children of the
    school) and satisfaction (very satisfied + satisfied / answers) per school, plus the
    mean rating: four queries whatever the number of schools."""
    schools = School.objects.select_related("district").order_by("district__code", "name")
    if district is not None:
        schools = schools.filter(district=district)
    in_term = {
        "offering__plan__term__start__lte": term_end,
        "offering__plan__term__end__gte": term_start,
    }
    pupils = dict(
        Child.objects.filter(school__in=schools).order_by()
        .values_list("school_id").annotate(n=Count("pk"))
    )  # fmt: skip
    taking = dict(
        Enrolment.objects.filter(status__in=TOOK, offering__school__in=schools)
        .order_by()
        .filter(**in_term)
        .values_list("offering__school_id")
        .annotate(n=Count("child_id", distinct=True))
    )
    surveys = {
        row["school_id"]: row
        for row in TermSurvey.objects.filter(
            term__start__lte=term_end, term__end__gte=term_start, school__in=schools
        )
        .order_by()
        .values("school_id")
        .annotate(n=Count("pk"), ok=Count("pk", filter=Q(answer__in=TermSurvey.SATISFIED_ANSWERS)))
    }
    ratings = dict(
        Rating.objects.filter(**in_term, offering__school__in=schools)
        .order_by()
        .values_list("offering__school_id")
        .annotate(a=Avg("stars"))
    )
    out = []
    for school in schools:
        n = pupils.get(school.pk, 0)
        s = surveys.get(school.pk, {"n": 0, "ok": 0})
        out.append(
            {
                "school": school,
                "pupils": n,
                "taking": taking.get(school.pk, 0),
                "participation": taking.get(school.pk, 0) / n if n else None,
                "answers": s["n"],
                "satisfaction": s["ok"] / s["n"] if s["n"] else None,
                "rating": ratings.get(school.pk),
            }
        )
    return out


def parent_bills(user):
    """A parent's bills with ``refunded``: what the fee ledger paid back on each (refunds of
    untaken lessons, a cancelled course), summed in the same query."""
    from django.db.models import DecimalField, Subquery, Sum, Value
    from django.db.models.functions import Coalesce

    from afterschool.fee_models import Bill, FeeEntry, FeeTransaction
    from portal.access import scope

    refunded = (
        FeeEntry.objects.filter(
            transaction__bill_id=OuterRef("pk"),
            transaction__kind=FeeTransaction.Kind.REFUND,
            amount__gt=0,  # the family's side of each refund; the school's cash is negative
        )
        .order_by()
        .values("transaction__bill_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return (
        scope(Bill.objects.all(), user)
        .select_related("child", "enrolment__offering")
        .prefetch_related("payments")
        .annotate(
            refunded=Coalesce(Subquery(refunded, output_field=money), Value(0), output_field=money)
        )
        .order_by("-period_start", "child__name", "id")
    )
