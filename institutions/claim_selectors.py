"""Reads of 消课 claims shared by the parent's pages, the institution's pages and the
institution's home page (``org_summary``). Every queryset goes through portal.access.scope;
each page costs a fixed number of queries whatever the number of purchases and claims."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, Sum
from django.urls import reverse
from django.utils import timezone

from institutions import colour, escrow
from institutions.claim_models import LessonClaim
from institutions.claims import answer_by
from institutions.enforcement_selectors import institution_record
from institutions.escrow_models import EscrowEntry, EscrowTransaction, Purchase
from institutions.models import Course
from portal.access import scope

S = LessonClaim.Status
ZERO = Decimal("0.00")


@dataclass
class PurchaseView:
    """One purchase as its parent sees it."""

    purchase: Purchase
    sums: escrow.Sums
    claimed: int = 0
    confirmed: int = 0
    disputed: int = 0
    pending: list = field(default_factory=list)
    card: dict | None = None  # the institution's colour and record (institution_cards)

    @property
    def refundable(self) -> Decimal:
        """What refund_unconsumed would give back today: the value of the lessons not
        consumed, within what the escrow still holds (0 once refunded)."""
        p = self.purchase
        if p.status != Purchase.Status.ACTIVE:
            return ZERO
        return max(ZERO, min(p.amount - p.value_of(p.lessons_consumed), self.sums.held))


def _sums(purchases) -> dict[int, escrow.Sums]:
    """Paid, released and refunded of each purchase, from the ledger (one query)."""
    by_account = {p.account: p.pk for p in purchases}
    found: dict[int, dict] = {pk: {} for pk in by_account.values()}
    rows = (
        EscrowEntry.objects.filter(account__in=list(by_account))
        .values("account", "transaction__kind")
        .annotate(s=Sum("amount"))
        .values_list("account", "transaction__kind", "s")
    )
    for account, kind, total in rows:
        found[by_account[account]][kind] = total
    K = EscrowTransaction.Kind
    return {
        pk: escrow.Sums(
            paid=-(k.get(K.PURCHASE) or ZERO),
            released=k.get(K.RELEASE) or ZERO,
            refunded=(k.get(K.REFUND) or ZERO) + (k.get(K.REFUND_FULL) or ZERO),
        )
        for pk, k in found.items()
    }


def _counts(purchase_ids) -> dict[int, dict[str, int]]:
    """Lessons claimed by status, per purchase (one query)."""
    out: dict[int, dict[str, int]] = {}
    rows = (
        LessonClaim.objects.filter(purchase_id__in=purchase_ids)
        .values_list("purchase_id", "status")
        .annotate(n=Sum("lessons"))
    )
    for pid, status, n in rows:
        out.setdefault(pid, {})[status] = n
    return out


def parent_purchases(user) -> list[PurchaseView]:
    """A parent's purchases with their figures and the claims waiting for their answer
    (4 queries)."""
    purchases = list(
        scope(Purchase.objects.all(), user)
        .select_related("institution", "course")
        .prefetch_related(
            Prefetch(
                "claims",
                queryset=LessonClaim.objects.filter(status=S.PENDING).order_by("date", "start"),
                to_attr="pending_claims",
            )
        )
        .order_by("-created_at", "-id")
    )
    sums = _sums(purchases)
    counts = _counts([p.pk for p in purchases])
    views = []
    for p in purchases:
        c = counts.get(p.pk, {})
        views.append(
            PurchaseView(
                purchase=p,
                sums=sums[p.pk],
                claimed=sum(c.values()),
                confirmed=c.get(S.CONFIRMED, 0) + c.get(S.AUTO_CONFIRMED, 0),
                disputed=c.get(S.DISPUTED, 0),
                pending=p.pending_claims,
            )  # fmt: skip
        )
    return views


def institution_cards(purchases) -> dict[int, dict]:
    """Each institution's colour and record (处理记录), once per institution."""
    cards = {}
    today = timezone.localdate()
    for p in purchases:
        inst = p.institution
        if inst.pk not in cards:
            cards[inst.pk] = {
                "verdict": colour.verdict(inst, today=today),
                "record": institution_record(inst.pk),
            }
    return cards


def parent_purchase(user, pk: int) -> dict:
    """One of the parent's purchases with its claims and its ledger history (raises
    Purchase.DoesNotExist for another parent's: the view's 404)."""
    purchase = (
        scope(Purchase.objects.all(), user).select_related("institution", "course").get(pk=pk)
    )
    claims = list(purchase.claims.order_by("-date", "-start", "-id"))
    for c in claims:
        c.answer_by = answer_by(c)
    c = _counts([purchase.pk]).get(purchase.pk, {})
    view = PurchaseView(
        purchase=purchase, sums=_sums([purchase])[purchase.pk], claimed=sum(c.values()),
        confirmed=c.get(S.CONFIRMED, 0) + c.get(S.AUTO_CONFIRMED, 0),
        disputed=c.get(S.DISPUTED, 0),
        pending=[x for x in claims if x.status == S.PENDING],
    )  # fmt: skip
    transactions = list(
        EscrowTransaction.objects.filter(purchase=purchase).order_by("created_at", "id")
    )
    return {"view": view, "claims": claims, "transactions": transactions}


# --- the institution's side ---------------------------------------------------------------


def institution_courses(user):
    """The institution's courses with their ACTIVE purchases counted (one query)."""
    return (
        scope(Course.objects.all(), user)
        .annotate(buyers=Count("purchases", filter=Q(purchases__status=Purchase.Status.ACTIVE)))
        .order_by("-active", "name", "pk")
    )


def claimable_purchases(user, course: Course):
    """The ACTIVE purchases of a course, the buyers the claim form lists (only ACTIVE
    purchases may be claimed)."""
    return (
        scope(Purchase.objects.all(), user)
        .filter(course=course, status=Purchase.Status.ACTIVE)
        .order_by("pk")
    )


def institution_claims(user, *, status: str = "", limit: int = 200):
    qs = scope(LessonClaim.objects.all(), user).select_related("purchase", "purchase__course")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-date", "-start", "-id")[:limit]


def org_summary(institution) -> list[tuple[str, str, str]]:
    """Figures for the institution's home page (机构端首页): (label, value, url). Two
    queries."""
    url = reverse("training:claims")
    counts = dict(
        LessonClaim.objects.filter(purchase__institution=institution)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    active = Purchase.objects.filter(institution=institution, status=Purchase.Status.ACTIVE)
    buyers = active.count()
    return [
        ("在读学员（有效预收费）", str(buyers), url),
        ("待家长确认的消课", str(counts.get(S.PENDING, 0)), f"{url}?status={S.PENDING}"),
        ("家长有异议的消课", str(counts.get(S.DISPUTED, 0)), f"{url}?status={S.DISPUTED}"),
        ("已确认的消课（含逾期自动确认）",
         str(counts.get(S.CONFIRMED, 0) + counts.get(S.AUTO_CONFIRMED, 0)), url),
    ]  # fmt: skip
