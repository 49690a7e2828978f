"""Reads of the case library shared by its pages and the API."""

from django.db.models import Q

from cases import search
from cases.models import Case
from portal.access import scope

HEAVY = ["raw", "search_title", "search_body"]


def published():
    return Case.objects.filter(status=Case.Status.PUBLISHED)


def public_search(*, q="", theme="", place="", year=None):
    """(queryset, mode) of published cases for the public pages."""
    qs = published()
    if theme:
        qs = qs.filter(themes__contains=[theme])
    if place:
        qs = qs.filter(
            Q(province__contains=place)
            | Q(city__contains=place)
            | Q(district__contains=place)
            | Q(place__contains=place)
        )
    if year:
        qs = qs.filter(year=year)
    # the list never shows the raw slice nor the segmentation: leave them in the database
    qs = qs.select_related("source").defer(*HEAVY, "source__original", "source__preface")
    if q.strip():
        return search.search(qs, q)
    return qs.order_by("-published_on", "source_id", "position", "-id"), ""


def years():
    """The years the filter offers: each published case's date's, else the one its title
    or text gives (Case.year)."""
    return list(
        published().exclude(year=None).order_by("-year").values_list("year", flat=True).distinct()
    )


def school_cases(user):
    return scope(Case.objects.all(), user).order_by("-updated_at")
