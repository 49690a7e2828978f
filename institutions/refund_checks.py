"""Nightly checks of refunds (退费) (imported by institutions/checks.py).

A request refused by the institution or sent up unanswered waits for the bureau's decision;
one still waiting PORTAL_REFUND_ANSWER_DAYS calendar days after it reached the bureau (the
institution's own time to answer: a parent waits no longer on the bureau than on the
institution) is a finding of the training line ("institutions."), named by number only.
"""

import datetime as dt

from django.conf import settings
from django.db.models.functions import Coalesce, TruncDate

from institutions.refund_models import RefundRequest
from portal.compliance import Found, register
from portal.models import Finding


@register(
    "institutions.refund.bureau_overdue",
    title="退费申请超期未作决定（教育局）",
    severity=Finding.Severity.WARNING,
)
def bureau_overdue(for_date):
    days = settings.PORTAL_REFUND_ANSWER_DAYS
    rows = (
        RefundRequest.objects.filter(status__in=RefundRequest.FOR_BUREAU)
        .annotate(since=TruncDate(Coalesce("escalated_at", "answered_at")))
        .filter(since__lt=for_date - dt.timedelta(days=days))
        .select_related("purchase")
        .order_by("pk")
    )
    for request in rows:
        yield Found(
            subject=request,
            institution_id=request.purchase.institution_id,
            message=f"{request}于 {request.since} 转教育局（{request.get_status_display()}），"
            f"已超过 {days} 天仍未作出决定。",
        )
