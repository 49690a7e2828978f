"""Reads of the register shared by the public pages, the API and the board."""

import datetime as dt

from django.db.models import Count, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from institutions import colour, search
from institutions.models import Course, Institution, ListChange, SupervisedAccount

PUBLIC_FIELDS = [
    "id", "name", "category", "subjects", "mode", "district__name", "licence_expires",
]  # fmt: skip


def public_search(*, q="", district=None, category="", subject="", list_colour=""):
    today = timezone.localdate()
    qs = (
        Institution.objects.select_related("district")
        .only("id", "name", "category", "subjects", "mode", "district__name", "district__id",
              "licence_expires")
        .annotate(colour=colour.colour_expression(today=today))
    )  # fmt: skip
    if district:
        qs = qs.filter(district=district)
    if category:
        qs = qs.filter(category=category)
    if subject:
        qs = qs.filter(subjects__contains=[subject])
    if list_colour:
        qs = qs.filter(colour=list_colour)
    qs = search.matching(qs, q)
    return qs.order_by("name", "id")


def detail(pk: int):
    # the public page lists what may be sold: active and approved (已备案) courses only
    courses = (
        Course.objects.filter(active=True, filing=Course.Filing.APPROVED)
        .prefetch_related("slots")
        .order_by("name")
    )
    institution = (
        Institution.objects.select_related("district", "supervised_account")
        .prefetch_related(Prefetch("courses", queryset=courses))
        .get(pk=pk)
    )
    return institution


def list_changed_at(institution: Institution, *, today: dt.date | None = None):
    """When the institution's list entry last changed: its last recorded change, or the
    moment its licence expired, or an open 责令整改 ran past its deadline, if that came later
    (the colour changed then, at midnight, whatever ran)."""
    today = today or timezone.localdate()
    last = institution.list_changes.aggregate(at=Max("changed_at"))["at"]
    tz = timezone.get_current_timezone()
    moments = []
    expires = institution.licence_expires
    if expires is not None and expires < today:
        moments.append(expires)
    overdue = (
        colour.overdue_rectifications(today=today)
        .filter(institution=institution)
        .aggregate(first=Min("deadline"))["first"]
    )
    if overdue is not None:
        moments.append(overdue)
    for day in sorted(moments, reverse=True):
        at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        if last is None or at > last:
            return at
    return last


def board(*, district=None, category=""):
    """挂图作战: each institution's progress on 压减, 营转非 and 资金托管, with counts."""
    qs = Institution.objects.select_related("district").annotate(
        supervised=Count("supervised_account", filter=Q(supervised_account__active=True)),
        last_step=Subquery(
            ListChange.objects.filter(institution=OuterRef("pk")).order_by("-changed_at")
            .values("changed_at")[:1]
        ),
    )  # fmt: skip
    if district:
        qs = qs.filter(district=district)
    if category:
        qs = qs.filter(category=category)
    return qs.order_by("district__code", "governance", "name")


def supervised_accounts():
    return SupervisedAccount.objects.filter(active=True)
