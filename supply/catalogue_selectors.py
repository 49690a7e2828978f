"""Reads of the district course catalogue (公益课程包), already scoped.

- a venue's member: its own packages and their orders (school names and pupil counts, never
  a pupil); another organisation's package or order is a 404;
- a school's staff: the packages of its district's terms (the catalogue to order from) and
  its own orders only (another school's order is a 404);
- bureau staff of 课后服务: everything, with the reports.
"""

from django.db.models import Avg, Count, Exists, OuterRef, Q, Sum
from django.http import Http404
from django.utils import timezone

from portal.access import BUREAU, ORGANISATION, SCHOOL, get_scoped_or_404, kind_of, scope
from portal.models import Child, School, SchoolPeriod
from supply.catalogue_models import (
    CatalogueOrder,
    CataloguePackage,
    CatalogueVisit,
    SchoolLocality,
)

Status = CataloguePackage.Status


def term_options():
    """Terms a package may be published for: not closed, not over."""
    return (
        SchoolPeriod.objects.filter(
            kind=SchoolPeriod.Kind.TERM,
            status__in=(SchoolPeriod.Status.DRAFT, SchoolPeriod.Status.ACTIVE),
            end__gte=timezone.localdate(),
        )
        .select_related("district")
        .order_by("district__code", "start")
    )


def _packages():
    return CataloguePackage.objects.select_related("organisation", "term").annotate(
        n_orders=Count("orders", filter=~Q(orders__status="withdrawn")),
        demand=Sum("orders__pupils", filter=~Q(orders__status="withdrawn"), default=0),
    )


def packages_for(user, *, term_id=None):
    """The packages a user's side sees: a school, its district's (not withdrawn); a venue,
    its own; the bureau, all."""
    kind = kind_of(user)
    if kind == SCHOOL:
        school = user.school_staff.school
        # a withdrawn package stays visible to the schools that ordered it (their order
        # page links to it), to no other
        ordered = CatalogueOrder.objects.filter(package=OuterRef("pk"), school=school)
        qs = _packages().filter(term__district_id=school.district_id)
        qs = qs.filter(~Q(status=Status.WITHDRAWN) | Exists(ordered))
    elif kind == ORGANISATION:
        qs = scope(_packages(), user)
    elif kind == BUREAU:
        qs = _packages()
    else:
        qs = CataloguePackage.objects.none()
    if term_id:
        qs = qs.filter(term_id=term_id)
    return qs.order_by("-created_at", "-id")


def package_for(user, pk) -> CataloguePackage:
    """One package the user may see (404 otherwise)."""
    row = packages_for(user).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def orders_of(package, user):
    """The package's orders the user may see: all of them for the venue and the bureau, a
    school's own only."""
    qs = scope(CatalogueOrder.objects.filter(package=package).select_related("school"), user)
    return qs.annotate(n_visits=Count("visits")).order_by("rank", "ordered_at", "pk")


def my_order_of(package, user):
    """The school's own order of the package, or None."""
    if kind_of(user) != SCHOOL:
        return None
    return CatalogueOrder.objects.filter(package=package, school=user.school_staff.school).first()


def orders_for(user):
    """The orders a user's side sees (a school: its own; a venue: its packages'; the
    bureau: all), with their recorded visits."""
    return (
        scope(CatalogueOrder.objects.select_related("package__organisation", "school"), user)
        .annotate(n_visits=Count("visits"), reached=Sum("visits__pupils_reached", default=0))
        .order_by("-ordered_at", "-id")
    )


def order_for(user, pk) -> CatalogueOrder:
    return get_scoped_or_404(
        CatalogueOrder.objects.select_related("package__organisation", "package__term", "school"),
        user,
        pk=pk,
    )


def visits_of(order):
    return CatalogueVisit.objects.filter(order=order).order_by("date", "pk")


def localities():
    """Every school with its rural flag and pupil count (the dispatch rule's two keys)."""
    rural = dict(SchoolLocality.objects.values_list("school_id", "rural"))
    sizes = dict(
        Child.objects.values_list("school_id").annotate(n=Count("pk")).values_list("school_id", "n")
    )
    rows = list(School.objects.select_related("district").order_by("district__code", "code"))
    for s in rows:
        s.rural = rural.get(s.pk, False)
        s.pupils = sizes.get(s.pk, 0)
    return rows


def term_choices():
    return (
        SchoolPeriod.objects.filter(kind=SchoolPeriod.Kind.TERM)
        .select_related("district")
        .order_by("-start")
    )


def _visits(term_id=None, district_id=None, start=None, end=None):
    qs = CatalogueVisit.objects.all()
    if term_id:
        qs = qs.filter(order__package__term_id=term_id)
    if district_id:
        qs = qs.filter(order__school__district_id=district_id)
    if start and end:
        qs = qs.filter(date__range=(start, end))
    return qs


def reached_by_venue(term_id=None, district_id=None, start=None, end=None) -> list[dict]:
    """Pupils reached per venue (organisation): visits, pupils, schools, average rating.
    One query."""
    return list(
        _visits(term_id, district_id, start, end)
        .values("order__package__organisation_id", "order__package__organisation__name")
        .annotate(
            visits=Count("pk"),
            pupils=Sum("pupils_reached"),
            schools=Count("order__school", distinct=True),
            rating=Avg("rating"),
        )
        .order_by("-pupils", "order__package__organisation__name")
    )


def reached_by_school(term_id=None, district_id=None, start=None, end=None) -> list[dict]:
    """Pupils reached per school: visits, pupils, venues, average rating. One query."""
    return list(
        _visits(term_id, district_id, start, end)
        .values("order__school_id", "order__school__name")
        .annotate(
            visits=Count("pk"),
            pupils=Sum("pupils_reached"),
            venues=Count("order__package__organisation", distinct=True),
            rating=Avg("rating"),
        )
        .order_by("-pupils", "order__school__name")
    )


def visit_for(user, pk) -> CatalogueVisit:
    return get_scoped_or_404(CatalogueVisit.objects.select_related("order"), user, pk=pk)


def school_or_404(pk) -> School:
    """A school for the bureau's rural register (bureau pages only)."""
    row = School.objects.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row
