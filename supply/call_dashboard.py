"""Dashboard panel of the public call for providers (imported by supply/dashboard.py): the
calls open or published during the month with their applications and admitted providers,
one query (calls are the bureau's, not a district's: the district filter does not apply)."""

from django.db.models import Count, Q

from portal.dashboard import Bar, Filters, Panel, Series, link, panel
from supply.call_models import Call, CallApplication


@panel("supply.calls", title="课后服务机构公开征集", line="afterschool", order=80, kept=True)
def calls_panel(f: Filters) -> Panel:
    rows = list(
        Call.objects.filter(created_at__date__lte=f.end)
        .filter(Q(published_at__isnull=True) | Q(published_at__date__gte=f.start))
        .annotate(
            n=Count("applications"),
            admitted=Count(
                "applications", filter=Q(applications__status=CallApplication.Status.ADMITTED)
            ),
        )
        .order_by("deadline", "pk")
        .values_list("pk", "title", "n", "admitted")
    )
    applied = [Bar(title, n, link(f"/calls/bureau/{pk}/")) for pk, title, n, _a in rows]
    admitted = [Bar(title, a, link(f"/calls/bureau/{pk}/")) for pk, title, _n, a in rows]
    return Panel(
        title="",
        series=[Series("申报", applied), Series("准入", admitted)],
        unit="家",
        figures=[
            ("征集", str(len(rows))),
            ("申报", str(sum(r[2] for r in rows))),
            ("准入", str(sum(r[3] for r in rows))),
        ],
        chart_limit=20,
    )
