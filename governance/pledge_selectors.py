"""Reads of commitment letters (承诺书), already scoped (portal.access.scope)."""

from django.db.models import Count, Q

from governance.pledge_models import PledgeCampaign, PledgeLetter, PledgeTemplate
from portal.access import get_scoped_or_404, scope
from portal.models import School


def templates():
    return PledgeTemplate.objects.order_by("title", "-version")


def campaigns(user):
    return scope(PledgeCampaign.objects.select_related("template"), user).order_by("-year", "-pk")


def campaign(user, pk) -> PledgeCampaign:
    return get_scoped_or_404(PledgeCampaign.objects.select_related("template"), user, pk=pk)


def campaign_schools(user, c: PledgeCampaign) -> list[dict]:
    """Per school (those the user may see): letters, signed, unsigned."""
    rows = (
        scope(PledgeLetter.objects.filter(campaign=c), user)
        .values("school_id", "school__name")
        .annotate(total=Count("pk"), signed=Count("pk", filter=Q(signed_at__isnull=False)))
        .order_by("school__name")
    )
    return [{**r, "unsigned": r["total"] - r["signed"]} for r in rows]


def campaign_letters(user, c: PledgeCampaign, *, unsigned_only=False):
    qs = scope(PledgeLetter.objects.filter(campaign=c), user).select_related("staff", "school")
    if unsigned_only:
        qs = qs.filter(signed_at__isnull=True)
    return qs.order_by("school__name", "signed_at", "staff__name")


def my_letters(user):
    return (
        scope(PledgeLetter.objects.filter(staff__user=user), user)
        .select_related("campaign__template")
        .order_by("-campaign__year", "-pk")
    )


def my_letter(user, pk) -> PledgeLetter:
    """The user's own letter; another teacher's (even of the same school) is a 404."""
    return get_scoped_or_404(
        PledgeLetter.objects.filter(staff__user=user).select_related(
            "campaign__template", "staff", "school"
        ),
        user,
        pk=pk,
    )


def printable_letter(user, pk) -> PledgeLetter:
    """A letter for its print page: the teacher's own, their school's managers', bureau's."""
    from portal.permissions import is_bureau, is_school_manager

    qs = PledgeLetter.objects.select_related("campaign__template", "staff", "school", "signed_by")
    if not (is_bureau(user, "governance") or is_school_manager(user)):
        qs = qs.filter(staff__user=user)
    return get_scoped_or_404(qs, user, pk=pk)


def school_options():
    return School.objects.select_related("district").order_by("district__code", "code")


def is_school_user(user) -> bool:
    from portal.access import SCHOOL, kind_of

    return kind_of(user) == SCHOOL
