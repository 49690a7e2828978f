"""Dashboard panel of holiday care (portal.dashboard.panel): places by host site."""

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from afterschool.holiday_models import HostWeek
from afterschool.models import Enrolment
from portal.dashboard import Bar, Filters, Panel, Series, link, panel

# a vacation is planned and enrolled months ahead: the panel looks this far past the month
AHEAD = dt.timedelta(days=92)


@panel(
    "afterschool.holiday", title="假期托管名额（本月及此后三个月，按托管点）", line="afterschool",
    order=45, kept=True,
)  # fmt: skip
def places(f: Filters) -> Panel:
    """Places offered and taken per host site, for the week blocks from the filter's month
    to three months past it (winter care is enrolled in December): one query (the places
    taken counted in a subquery per block)."""
    taken = (
        Enrolment.objects.filter(offering_id=OuterRef("offering_id"), status="enrolled")
        .order_by()
        .values("offering_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        HostWeek.objects.filter(
            host__site__district=f.district,
            offering__starts_on__lte=f.end + AHEAD,
            offering__ends_on__gte=f.start,
        )
        .annotate(taken=Coalesce(Subquery(taken, output_field=IntegerField()), Value(0)))
        .order_by("host__site__name", "week")
        .values_list("host__site__name", "offering__capacity", "taken")
    )
    by_site: dict[str, list[int]] = {}
    for name, capacity, n in rows:
        got = by_site.setdefault(name, [0, 0])
        got[0] += capacity
        got[1] += n
    url = link("/holiday/hosts/")
    series = [
        Series("名额", [Bar(name, v[0], url) for name, v in by_site.items()]),
        Series("已报名", [Bar(name, v[1], url) for name, v in by_site.items()]),
    ]
    offered = sum(v[0] for v in by_site.values())
    took = sum(v[1] for v in by_site.values())
    figures = [
        ("假期托管名额", str(offered)),
        ("已报名", str(took)),
        ("使用率", f"{100 * took / offered:.1f}%" if offered else "—"),
    ]
    return Panel(title="", series=series, unit="人", figures=figures, chart_limit=30)
