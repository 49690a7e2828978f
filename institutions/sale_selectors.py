"""Reads of the sales pages, scoped (portal.access): an institution sees its own sales, a
parent the sales linked to their account; anything else is a 404."""

from django.db.models import Count, Q
from django.urls import reverse

from institutions.escrow_models import Purchase
from institutions.models import Course
from institutions.sale_models import SaleNotice
from portal.access import get_scoped_or_404, scope

Status = Purchase.Status
TO_RETURN = (SaleNotice.Outcome.MISMATCH, SaleNotice.Outcome.NOT_PAYABLE)


def institution_sales(user, status: str = ""):
    """The institution's purchases (its sales and the records staff typed), newest first."""
    qs = scope(Purchase.objects.all(), user).select_related("course")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def sellable_courses(user):
    """The courses the new-sale form offers (the service judges again: accounts rules)."""
    qs = scope(Course.objects.all(), user).filter(active=True)
    if hasattr(Course, "Filing"):
        qs = qs.filter(filing=Course.Filing.APPROVED)
    return qs.order_by("name", "pk")


def course_of(user, pk: int) -> Course:
    return get_scoped_or_404(Course.objects.select_related("institution"), user, pk=pk)


def sale_detail(user, pk: int) -> Purchase:
    return get_scoped_or_404(
        Purchase.objects.select_related("course", "institution", "contract__template"),
        user,
        pk=pk,
    )


def sale_notices(purchase: Purchase):
    return list(SaleNotice.objects.filter(purchase=purchase).order_by("created_at", "id"))


def parent_offer(user, pk: int) -> Purchase:
    """A sale offered to this parent (one with a contract), else 404."""
    return get_scoped_or_404(
        Purchase.objects.filter(contract__isnull=False).select_related(
            "course", "institution", "contract__template", "institution__supervised_account"
        ),
        user,
        pk=pk,
    )


def parent_sales(user):
    return (
        scope(Purchase.objects.filter(contract__isnull=False), user)
        .select_related("course", "institution")
        .order_by("-created_at", "-id")
    )


def org_summary(institution) -> list[tuple[str, object, str]]:
    """The institution's home page lines about its sales: (label, value, url). Two queries."""
    counts = Purchase.objects.filter(institution=institution).aggregate(
        offered=Count("pk", filter=Q(status=Status.OFFERED)),
        accepted=Count("pk", filter=Q(status=Status.ACCEPTED)),
        active=Count("pk", filter=Q(status=Status.ACTIVE)),
    )
    to_return = SaleNotice.objects.filter(
        purchase__institution=institution, outcome__in=TO_RETURN
    ).count()
    url = reverse("sales:list")
    return [
        ("待家长确认", counts["offered"], f"{url}?status={Status.OFFERED}"),
        ("待付款", counts["accepted"], f"{url}?status={Status.ACCEPTED}"),
        ("履行中", counts["active"], f"{url}?status={Status.ACTIVE}"),
        ("到账未入账、待退回", to_return, url),
    ]
