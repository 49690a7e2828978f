"""Reads of the matching fair (双向选择会), already scoped.

A school sees its own needs and matches (``portal.access.scope``); an organisation its own
offers and matches. To rank, each side sees the other side's postings of the same fair:
a school the offers compatible with one of its needs, a provider the needs compatible with
one of its offers (a school's name and the need, never a pupil)."""

from collections import defaultdict

from django.db.models import Count, Q
from django.http import Http404

from portal.access import BUREAU, SCHOOL, get_scoped_or_404, kind_of, scope
from portal.models import SchoolPeriod
from supply import fair as rules
from supply.fair_models import Fair, FairChoice, FairMatch, FairNeed, FairOffer


def fairs(user):
    """The fairs a user may open: the bureau all, a school those of its district, an
    admitted provider all (a provider is not bound to one district)."""
    qs = Fair.objects.select_related("term", "term__district")
    kind = kind_of(user)
    if kind in (BUREAU, SCHOOL):
        return scope(qs, user)
    if rules.may_offer(user):
        return qs
    return qs.none()


def fair(user, pk) -> Fair:
    found = fairs(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def term_options():
    return SchoolPeriod.objects.filter(kind=SchoolPeriod.Kind.TERM, fair__isnull=True).order_by(
        "district__name", "start"
    )


def my_needs(user, fair: Fair):
    """The school's needs in the fair, each with its match (one query)."""
    return list(
        scope(FairNeed.objects.filter(fair=fair), user)
        .select_related("school", "match__offer__organisation", "match__contract")
        .order_by("pk")
    )


def my_offers(user, fair: Fair):
    return list(
        scope(FairOffer.objects.filter(fair=fair), user)
        .annotate(n_matches=Count("matches"))
        .order_by("pk")
    )


def my_matches(user, fair: Fair):
    return list(
        scope(FairMatch.objects.filter(fair=fair), user)
        .select_related("need__school", "offer__organisation", "contract")
        .order_by("need__school__name", "pk")
    )


def need(user, pk) -> FairNeed:
    return get_scoped_or_404(FairNeed.objects.select_related("fair", "school"), user, pk=pk)


def offer(user, pk) -> FairOffer:
    return get_scoped_or_404(FairOffer.objects.select_related("fair", "organisation"), user, pk=pk)


def _ranked(rows, side_ranks: dict[int, int]):
    """Rows with ``rank`` (their current rank, or None), ranked first in rank order."""
    for r in rows:
        r.rank = side_ranks.get(r.pk)
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.pk))


def offers_for_need(need: FairNeed):
    """The offers of the need's fair compatible with it, with the school's current ranks."""
    offers = [
        o
        for o in FairOffer.objects.filter(
            fair_id=need.fair_id,
            kind=need.kind,
            grades__overlap=need.grades,
            weekdays__overlap=need.weekdays,
            price_per_lesson__lte=need.budget_per_lesson,
        ).select_related("organisation")
    ]
    ranks = dict(
        FairChoice.objects.filter(need=need, side=FairChoice.Side.SCHOOL).values_list(
            "offer_id", "rank"
        )
    )
    return _ranked(offers, ranks)


def needs_for_offer(offer: FairOffer):
    """The needs of the offer's fair compatible with it, with the provider's current ranks."""
    needs = list(
        FairNeed.objects.filter(
            fair_id=offer.fair_id,
            kind=offer.kind,
            grades__overlap=offer.grades,
            weekdays__overlap=offer.weekdays,
            budget_per_lesson__gte=offer.price_per_lesson,
        ).select_related("school")
    )
    ranks = dict(
        FairChoice.objects.filter(offer=offer, side=FairChoice.Side.PROVIDER).values_list(
            "need_id", "rank"
        )
    )
    return _ranked(needs, ranks)


def summary(fair: Fair) -> dict:
    """The bureau's counts of a fair (two queries)."""
    needs = FairNeed.objects.filter(fair=fair).aggregate(
        total=Count("pk"), matched=Count("pk", filter=Q(match__isnull=False))
    )
    offers = FairOffer.objects.filter(fair=fair).aggregate(total=Count("pk"))
    return {
        "needs": needs["total"],
        "matched": needs["matched"],
        "unmatched": needs["total"] - needs["matched"],
        "offers": offers["total"],
    }


def unmatched_by_school(fair: Fair):
    """The bureau's list: each school of the fair's district with its needs, matched and
    unmatched, and the unmatched needs themselves (two queries)."""
    rows = list(
        FairNeed.objects.filter(fair=fair, match__isnull=True)
        .select_related("school")
        .order_by("school__name", "pk")
    )
    counts = dict(
        (r["school"], r)
        for r in FairNeed.objects.filter(fair=fair)
        .values("school")
        .annotate(total=Count("pk"), matched=Count("pk", filter=Q(match__isnull=False)))
    )
    by_school = defaultdict(list)
    for n in rows:
        by_school[n.school].append(n)
    return [
        {
            "school": school,
            "total": counts[school.pk]["total"],
            "matched": counts[school.pk]["matched"],
            "needs": needs,
        }
        for school, needs in by_school.items()
    ]
