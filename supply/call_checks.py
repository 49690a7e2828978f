"""Nightly check of the public call for providers (imported by supply/checks.py).

A call whose deadline passed more than PORTAL_CALL_SCORING_DAYS days ago and that is still
not published, with scores of its panel missing (or no panel at all), is a finding of the
supply line: the applicants wait for a result that the panel has not produced. Resolved
when the scores are in or the result is published.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from portal.compliance import Found, register
from portal.models import Finding
from supply import calls
from supply.call_models import Call


@register("supply.call.scoring_overdue", title="公开征集截止后逾期未完成专家评分",
          severity=Finding.Severity.WARNING)  # fmt: skip
def call_scoring_overdue(for_date):
    days = settings.PORTAL_CALL_SCORING_DAYS
    rows = Call.objects.filter(status=Call.Status.OPEN).order_by("deadline", "pk")
    for call in rows:
        closed = timezone.localtime(call.deadline).date()
        if for_date <= closed + dt.timedelta(days=days):
            continue
        ranked = calls.ranking(call)
        if not ranked:
            continue  # nobody applied: nothing to score
        missing = sum(r.missing for r in ranked)
        panel = call.experts.count()
        if panel and not missing:
            continue
        what = f"尚缺{missing}项专家评分" if panel else "尚未指派评审专家"
        yield Found(
            subject=call,
            message=f"“{call.title}”已于 {closed} 截止申报，{len(ranked)}份申报{what}"
            f"（应在截止后 {days} 天内完成评分）。",
        )
