"""Reads of the sites part, already scoped (portal.access) and joined: the bureau's register
and use of the community sites, an operator's site, its courses and their rolls."""

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from afterschool.models import (
    Attendance,
    CareSite,
    Enrolment,
    Lesson,
    Offering,
    SiteOperator,
    SiteSafetyCheck,
)
from afterschool.sites import check_good_until, open_problem
from portal.access import get_scoped_or_404, scope

LIVE = [Offering.Status.PUBLISHED, Offering.Status.FINISHED]


def _count(qs, field="pk", agg=Count):
    """One number per site as a subquery (no join that multiplies the site's rows)."""
    rows = qs.order_by().values("_site").annotate(n=agg(field)).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def sites_with_use(*, district=None, start: dt.date | None = None, end: dt.date | None = None):
    """Community sites with their use, one query: courses open or held (published or
    finished), places offered (of the published), places taken, and the roll-call marks
    of lessons from ``start`` to ``end`` (present and marked present-or-absent; leave is
    not counted against the site)."""
    offerings = Offering.objects.filter(site=OuterRef("pk")).annotate(_site=Value(1))
    published = offerings.filter(status=Offering.Status.PUBLISHED)
    enrolled = Enrolment.objects.filter(
        offering__site=OuterRef("pk"),
        offering__status=Offering.Status.PUBLISHED,
        status=Enrolment.Status.ENROLLED,
    ).annotate(_site=Value(1))
    marks = Attendance.objects.filter(lesson__offering__site=OuterRef("pk")).annotate(
        _site=Value(1)
    )
    if start and end:
        marks = marks.filter(lesson__date__range=(start, end))
    qs = CareSite.objects.filter(kind=CareSite.Kind.COMMUNITY)
    if district is not None:
        qs = qs.filter(district=district)
    return qs.select_related("partner_school", "district").annotate(
        courses=_count(offerings.filter(status__in=LIVE)),
        places=_count(published, "capacity", Sum),
        taken=_count(enrolled),
        present=_count(marks.filter(mark=Attendance.Mark.PRESENT)),
        marked=_count(marks.filter(mark__in=[Attendance.Mark.PRESENT, Attendance.Mark.ABSENT])),
    )


def with_state(sites, today: dt.date) -> list:
    """Each site with ``problem`` (why it is shut, or None) and ``good_until``."""
    rows = list(sites)
    for site in rows:
        site.problem = open_problem(site, today)
        site.good_until = check_good_until(site.safety_checked_on)
        site.rate = round(100 * site.present / site.marked, 1) if site.marked else None
    return rows


def site_detail(pk: int) -> CareSite:
    return get_object_or_404(
        CareSite.objects.select_related("partner_school", "district"),
        pk=pk,
        kind=CareSite.Kind.COMMUNITY,
    )


def checks_of(site: CareSite):
    return SiteSafetyCheck.objects.filter(site=site).select_related("recorded_by")


def operators_of(site: CareSite):
    return SiteOperator.objects.filter(site=site).select_related("user").order_by("-active", "name")


def courses_of_site(site_id: int):
    return (
        Offering.objects.filter(site_id=site_id)
        .select_related("plan__term", "school")
        .annotate(
            taken=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.ENROLLED)),
            waiting=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.WAITING)),
        )
        .order_by("-plan__term__start", "weekday", "start", "pk")
    )


# --- the operator ----------------------------------------------------------------------------


def my_site(user) -> CareSite:
    """The operator's own site (scope: the site itself)."""
    sites = CareSite.objects.select_related("partner_school", "district")
    return get_scoped_or_404(sites, user, pk=user.site_operator.site_id)


def my_course(user, pk: int) -> Offering:
    """A course of the operator's site; another site's (or a school's) is a 404."""
    return get_scoped_or_404(
        Offering.objects.select_related("plan__term", "site", "school"), user, pk=pk
    )


def roll_of(offering: Offering):
    """Who holds a place: the child's name, school and grade only (no parents, no phone)."""
    return (
        Enrolment.objects.filter(offering=offering)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .select_related("child__school", "child__school_class")
        .only(
            "status",
            "created_at",
            "child__name",
            "child__school__name",
            "child__school_class__grade",
        )  # fmt: skip
        .order_by("status", "created_at", "pk")
    )


def lessons_of(offering: Offering):
    return Lesson.objects.filter(offering=offering).order_by("date", "start")


def my_lesson(user, pk: int) -> Lesson:
    """A lesson of a course of the operator's site (scope through its course)."""
    lesson = get_object_or_404(
        Lesson.objects.select_related("offering__plan__term", "offering__site"), pk=pk
    )
    if not scope(Offering.objects.filter(pk=lesson.offering_id), user).exists():
        from django.http import Http404

        raise Http404
    return lesson
