"""Reads of the case library shared by its pages and the API."""

from django.db.models import Q

from cases import search
from cases.models import Case
from portal.access import scope

HEAVY = ["raw", "search_title", "search_body", "search_keywords", "search_vector", "rank_vector"]


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
        qs = qs.filter(published_on__year=year)
    # the list never shows the raw slice nor the segmentation: leave them in the database
    qs = qs.select_related("source").defer(*HEAVY, "source__original", "source__preface")
    if q.strip():
        return search.search(qs, q)
    return qs.order_by("-published_on", "source_id", "position", "-id"), ""


def years():
    return [d.year for d in published().dates("published_on", "year", order="DESC")]


def school_cases(user):
    return scope(Case.objects.all(), user).order_by("-updated_at")
