"""The after-school panels on the bureau's dashboard (portal.dashboard)."""

from django.db.models import Count, Q

from afterschool.models import SchoolPlan
from afterschool.selectors import school_rates
from portal.dashboard import Bar, Filters, Panel, Series, link, panel


# kept (portal.dashboard): every child and enrolment of the district, five queries
@panel(
    "afterschool.rates", title="课后服务参与率与满意率（%）", line="afterschool", order=40,
    kept=True,
)  # fmt: skip
def rates(f: Filters) -> Panel:
    rows = [r for r in school_rates(f.start, f.end, district=f.district) if r["pupils"]]
    url = link("/afterschool/review/rates/", start=f.start.isoformat(), end=f.end.isoformat())

    def pct(v):
        return round(100 * v, 1) if v is not None else 0

    series = [
        Series("参与率", [Bar(r["school"].name, pct(r["participation"]), url) for r in rows]),
        Series("满意率", [Bar(r["school"].name, pct(r["satisfaction"]), url) for r in rows]),
    ]
    pupils = sum(r["pupils"] for r in rows)
    taking = sum(r["taking"] for r in rows)
    answers = sum(r["answers"] for r in rows)
    satisfied = sum(round((r["satisfaction"] or 0) * r["answers"]) for r in rows)
    figures = [
        ("全区参与率", f"{100 * taking / pupils:.1f}%" if pupils else "—"),
        ("全区满意率", f"{100 * satisfied / answers:.1f}%" if answers else "—"),
    ]
    return Panel(title="", series=series, unit="%", figures=figures, chart_limit=30)


@panel(
    "afterschool.plans",
    title="课后服务方案状态（一校一案）",
    line="afterschool",
    order=41,
    kept=True,
)
def plans(f: Filters) -> Panel:
    counts = dict(
        SchoolPlan.objects.filter(school__district=f.district)
        .filter(Q(term__start__lte=f.end, term__end__gte=f.start))
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    bars = [
        Bar(s.label, counts.get(s.value, 0), link("/afterschool/review/plans/", status=s.value))
        for s in SchoolPlan.Status
    ]
    return Panel(title="", series=[Series("方案数", bars)], unit="份")


# the panels of care beyond the school day and of funding, one module per part
from afterschool import (  # noqa: E402,F401
    funding_dashboard,
    holiday_dashboard,
    lunch_dashboard,
    people_dashboard,
    sites_dashboard,
)
