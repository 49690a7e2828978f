"""Dashboard panel of refunds (退费) (imported by institutions/dashboard.py): the district's
refund requests by status, and the month's refunds. Two queries whatever the number."""

from decimal import Decimal

from django.db.models import Count, Sum
from django.urls import reverse

from institutions.refund_models import RefundRequest
from portal.dashboard import Bar, Filters, Panel, Series, link, panel


@panel("institutions.refunds_status", title="退费申请（按状态）", line="institutions", order=30)
def by_status(f: Filters) -> Panel:
    of_district = RefundRequest.objects.filter(purchase__institution__district=f.district)
    counts = dict(of_district.values_list("status").annotate(n=Count("pk")))
    refunded = of_district.filter(
        status=RefundRequest.Status.REFUNDED, updated_at__date__range=(f.start, f.end)
    ).aggregate(s=Sum("refund_amount"))["s"] or Decimal("0.00")
    bars = [
        Bar(label, counts.get(value, 0), link(reverse("refunds:bureau")))
        for value, label in RefundRequest.Status.choices
    ]
    return Panel(
        title="", series=[Series("件数", bars)], unit="件",
        figures=[("本月退费（元）", str(refunded))],
    )  # fmt: skip
