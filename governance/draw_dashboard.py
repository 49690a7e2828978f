"""Dashboard panel of 阳光分班 (imported by governance/dashboard.py): the district's draws
per school, published (waiting for the draw) and run, this year's intakes. One query."""

from django.db.models import Count, Q

from governance.draw_models import Draw
from portal.dashboard import Bar, Filters, Panel, Series, link, panel

STAFF_URL = "/draw/staff/"
S = Draw.Status


@panel("governance.draws", title="阳光分班（按学校）", line="governance", order=60, kept=True)
def draws_per_school(f: Filters) -> Panel:
    rows = list(
        Draw.objects.filter(school__district=f.district, year=f.start.year)
        .values("school__name")
        .annotate(
            published=Count("pk", filter=Q(status=S.PUBLISHED)),
            drawn=Count("pk", filter=Q(status=S.DRAWN)),
            draft=Count("pk", filter=Q(status=S.DRAFT)),
        )
        .order_by("school__name")
    )
    series = [
        Series("录入名单", [Bar(r["school__name"], r["draft"], link(STAFF_URL, status="draft"))
                        for r in rows]),
        Series("已公布承诺", [Bar(r["school__name"], r["published"],
                                link(STAFF_URL, status="published")) for r in rows]),
        Series("已抽签", [Bar(r["school__name"], r["drawn"], link(STAFF_URL, status="drawn"))
                       for r in rows]),
    ]  # fmt: skip
    return Panel(
        title="", series=series, unit="次", chart_limit=30,
        figures=[("已抽签", str(sum(r["drawn"] for r in rows))),
                 ("待抽签", str(sum(r["published"] for r in rows)))],
    )  # fmt: skip
