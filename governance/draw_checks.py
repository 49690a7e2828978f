"""Nightly check of 阳光分班 (imported by governance/checks.py).

A draw whose commitment was published but that the school has not run by
PORTAL_DRAW_RUN_GRACE_DAYS days after its scheduled day is a finding of the governance line
(the rule's first part), about the school: the families were told a time, the seed waits
secret, and a draw that never happens is a placement made some other way.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from governance.draw_models import Draw
from portal.compliance import Found, register
from portal.models import Finding


@register("governance.draw.not_run", title="阳光分班公布承诺后逾期未抽签",
          severity=Finding.Severity.WARNING)  # fmt: skip
def draw_not_run(for_date):
    grace = settings.PORTAL_DRAW_RUN_GRACE_DAYS
    # scheduled on a day before for_date - grace: its local day is what the families read
    rows = Draw.objects.filter(status=Draw.Status.PUBLISHED).select_related("school")
    for draw in rows.order_by("scheduled_at", "pk"):
        day = timezone.localtime(draw.scheduled_at).date()
        if for_date > day + dt.timedelta(days=grace):
            yield Found(
                subject=draw,
                school=draw.school,
                message=f"{draw}原定 {day} 抽签，承诺已公布，至 {for_date} 仍未抽签"
                f"（宽限 {grace} 天）。",
            )
