"""Reads of refunds (退费), already scoped and joined, shared by the pages, the institution's
home (``org_summary``), the checks and the dashboard."""

import datetime as dt
from decimal import Decimal

from django.db.models import Case, Count, Exists, OuterRef, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone

from institutions.escrow_models import Purchase
from institutions.models import Institution
from institutions.refund_models import RefundBatch, RefundBatchLine, RefundRequest
from portal.access import scope
from portal.exports import xlsx_append

S = RefundRequest.Status
PAID = (Purchase.Status.ACTIVE, Purchase.Status.REFUNDED, Purchase.Status.REFUNDED_FULL)
SOON_DAYS = 2  # "answer soon": the deadline is within this many days


def with_related():
    return RefundRequest.objects.select_related(
        "purchase", "purchase__course", "purchase__institution", "transaction"
    )


def parent_purchases(user):
    """A parent's paid purchases, each with ``open_request`` (bool), newest first."""
    open_request = RefundRequest.objects.filter(
        purchase=OuterRef("pk"), status__in=RefundRequest.OPEN
    )
    return (
        scope(Purchase.objects, user)
        .filter(status__in=PAID)
        .select_related("institution", "course")
        .annotate(open_request=Exists(open_request))
        .order_by("-created_at", "-pk")
    )


def parent_requests(user):
    return scope(with_related(), user).order_by("-asked_at", "-pk")


def request_for(user, pk: int):
    """One request as ``user`` may see it (the caller 404s on None)."""
    return scope(with_related(), user).filter(pk=pk).first()


def org_requests(user):
    """The institution's requests: those waiting for its answer first, by deadline."""
    waiting_first = Case(When(status=S.PENDING, then=Value(0)), default=Value(1))
    return scope(with_related(), user).order_by(waiting_first, "deadline", "-asked_at", "-pk")


def bureau_queue(today=None):
    """Refused and escalated requests, and pending ones past their deadline (the nightly
    sweep moves them; the bureau need not wait for it), oldest first."""
    today = today or timezone.localdate()
    waiting = Q(status__in=RefundRequest.FOR_BUREAU) | Q(status=S.PENDING, deadline__lt=today)
    return with_related().filter(waiting).order_by("asked_at", "pk")


def bureau_recent(limit: int = 50):
    return with_related().filter(decided_at__isnull=False).order_by("-decided_at", "-pk")[:limit]


def batch_candidates():
    """Suspended or closed institutions that still have purchases 履行中 (the batch refund's
    list), with how many."""
    closed = (
        Q(suspended_reason__gt="")
        | Q(licence_revoked=True)
        | Q(
            governance__in=[
                Institution.Governance.DEREGISTERED,
                Institution.Governance.DEREGISTERING,
            ]
        )
    )
    return (
        Institution.objects.filter(closed)
        .annotate(
            active_purchases=Count("purchases", filter=Q(purchases__status=Purchase.Status.ACTIVE))
        )
        .filter(active_purchases__gt=0)
        .order_by("name", "pk")
    )


def batches_of(institution):
    return RefundBatch.objects.filter(institution=institution).select_related("run_by")


def batch_lines(batch):
    return (
        RefundBatchLine.objects.filter(batch=batch)
        .select_related("purchase")
        .order_by("purchase_id")
    )


def batch_totals(lines) -> dict:
    zero = Decimal("0.00")
    totals = {"paid": zero, "unconsumed": zero, "refunded": zero, "shortfall": zero}
    for line in lines:
        for key in totals:
            totals[key] += getattr(line, key)
    return totals


def org_summary(institution) -> list[tuple[str, object, str]]:
    """The refund figures of the institution's home page (机构端首页): (label, value, url).
    One query."""
    today = timezone.localdate()
    soon = today + dt.timedelta(days=SOON_DAYS)
    counts = RefundRequest.objects.filter(purchase__institution=institution).aggregate(
        pending=Count("pk", filter=Q(status=S.PENDING, deadline__gte=today)),
        soon=Count("pk", filter=Q(status=S.PENDING, deadline__gte=today, deadline__lte=soon)),
        bureau=Count("pk", filter=Q(status__in=RefundRequest.FOR_BUREAU)),
        refunded=Sum("refund_amount", filter=Q(status=S.REFUNDED)),
    )
    url = reverse("refunds:list")
    return [
        ("待答复的退费申请", counts["pending"], url),
        (f"{SOON_DAYS}天内到期未答复", counts["soon"], url),
        ("已转教育局处理", counts["bureau"], url),
        ("已退费合计（元）", counts["refunded"] or Decimal("0.00"), url),
    ]


BATCH_HEADERS = ["预收费编号", "家长", "手机号", "课程", "监管方式", "实付（元）",
                 "未消课金额（元）", "已退（元）", "缺口（元）", "说明"]  # fmt: skip


def batch_workbook(batch) -> bytes:
    """A batch's result as an Excel workbook: each buyer masked, with paid / unconsumed /
    refunded / shortfall, and the totals (cells through portal.exports: never a formula)."""
    import io

    from openpyxl import Workbook

    lines = list(batch_lines(batch).select_related("purchase__course"))
    wb = Workbook()
    ws = wb.active
    ws.title = "批量退费"
    xlsx_append(ws, [f"{batch.institution.name} 批量退费（第 {batch.pk} 批）"])
    xlsx_append(ws, BATCH_HEADERS)
    for line in lines:
        p = line.purchase
        xlsx_append(ws, [p.pk, p.masked_name, p.masked_phone, p.course.name,
                         line.get_supervision_display(), line.paid, line.unconsumed,
                         line.refunded, line.shortfall, line.note])  # fmt: skip
    totals = batch_totals(lines)
    xlsx_append(ws, ["合计", "", "", "", "", totals["paid"], totals["unconsumed"],
                     totals["refunded"], totals["shortfall"], ""])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
