"""Dashboard panel of the matching fair (双向选择会), imported by supply/dashboard.py: the
needs of the district's matched fairs whose term overlaps the month, matched and unmatched
per school. One query whatever the number of schools and needs."""

from django.db.models import Count, Q

from portal.dashboard import Bar, Filters, Panel, Series, panel
from supply.fair_models import Fair, FairNeed


@panel("supply.fair_unmatched", title="双向选择会未匹配需求（按学校）", line="afterschool",
       order=48, kept=True)  # fmt: skip
def unmatched(f: Filters) -> Panel:
    rows = list(
        FairNeed.objects.filter(
            fair__term__district=f.district,
            fair__status=Fair.Status.MATCHED,
            fair__term__start__lte=f.end,
            fair__term__end__gte=f.start,
        )
        .values("school__name", "fair_id")
        .annotate(
            open=Count("pk", filter=Q(match__isnull=True)),
            matched=Count("pk", filter=Q(match__isnull=False)),
        )
        .order_by("-open", "school__name", "fair_id")
    )
    unmatched_bars = [
        Bar(r["school__name"], r["open"], f"/fair/{r['fair_id']}/unmatched/") for r in rows
    ]
    matched_bars = [
        Bar(r["school__name"], r["matched"], f"/fair/{r['fair_id']}/unmatched/") for r in rows
    ]
    total = sum(r["open"] for r in rows)
    return Panel(
        title="",
        series=[Series("未匹配", unmatched_bars, "#c0392b"), Series("已匹配", matched_bars)],
        unit="项",
        chart_limit=20,
        figures=[("未匹配需求", str(total))],
        note="" if rows else "本月所在学期没有已匹配的双向选择会。",
    )
