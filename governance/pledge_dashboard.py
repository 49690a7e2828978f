"""Dashboard panel of commitment letters (承诺书) (imported by governance/dashboard.py): the
signatures of the month's year's campaigns in the district, one query whatever their size."""

from django.db.models import Count, Q

from governance.pledge_models import PledgeLetter
from portal.dashboard import Bar, Filters, Panel, Series, link, panel


@panel(
    "governance.pledges", title="承诺书签署情况（本年度）", line="governance", order=60, kept=True
)
def pledges(f: Filters) -> Panel:
    rows = list(
        PledgeLetter.objects.filter(school__district=f.district, campaign__year=f.start.year)
        .values("campaign_id", "campaign__template__title")
        .annotate(total=Count("pk"), signed=Count("pk", filter=Q(signed_at__isnull=False)))
        .order_by("campaign_id")
    )
    signed = [
        Bar(r["campaign__template__title"], r["signed"], link(f"/pledges/{r['campaign_id']}/"))
        for r in rows
    ]
    unsigned = [
        Bar(
            r["campaign__template__title"],
            r["total"] - r["signed"],
            link(f"/pledges/{r['campaign_id']}/"),
        )
        for r in rows
    ]
    total = sum(r["total"] for r in rows)
    done = sum(r["signed"] for r in rows)
    return Panel(
        title="",
        series=[Series("已签署", signed), Series("未签署", unsigned)],
        unit="人",
        figures=[("签署率", f"{done * 100 / total:.0f}%" if total else "—")],
    )
