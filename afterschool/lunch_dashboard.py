"""Dashboard panels of lunch-break care (portal.dashboard.panel): one query."""

from django.db.models import Count, Q

from afterschool.lunch_models import LunchChoice, LunchMonth
from afterschool.models import Enrolment
from portal.dashboard import Bar, Filters, Panel, Series, link, panel

ENROLLED = Enrolment.Status.ENROLLED
BED, DESK = LunchChoice.Arrangement.BED, LunchChoice.Arrangement.DESK


@panel("afterschool.lunch", title="午托学生（按午休方式）", line="afterschool", order=46, kept=True)
def lunch_by_arrangement(f: Filters) -> Panel:
    """The month's pupils in lunch care per school, lying down (平躺睡) and at a desk (趴睡),
    against the beds offered."""
    on = "offering__enrolments__"
    rows = list(
        LunchMonth.objects.filter(school__district=f.district, month=f.start)
        .values("school__name", "beds")
        .annotate(
            bed=Count(f"{on}pk", filter=Q(**{f"{on}status": ENROLLED,
                                             f"{on}lunch_choice__arrangement": BED})),
            desk=Count(f"{on}pk", filter=Q(**{f"{on}status": ENROLLED,
                                              f"{on}lunch_choice__arrangement": DESK})),
        )
        .order_by("school__name")
    )  # fmt: skip
    url = link("/lunch/report/", month=f.month)
    series = [
        Series("平躺睡", [Bar(r["school__name"], r["bed"], url) for r in rows]),
        Series("趴睡", [Bar(r["school__name"], r["desk"], url) for r in rows]),
    ]
    beds = sum(r["beds"] for r in rows)
    lying = sum(r["bed"] for r in rows)
    figures = [
        ("开设午托学校", str(len(rows))),
        ("午托学生", str(lying + sum(r["desk"] for r in rows))),
        ("床位使用", f"{lying}/{beds}" if beds else "—"),
    ]
    return Panel(title="", series=series, unit="人", figures=figures, chart_limit=30)
