"""Dashboard panels of inspections (专项整治), 约谈, sanctions and 通报 (imported by
institutions/dashboard.py). Each in a fixed number of queries."""

from institutions import enforcement_selectors as sel
from institutions.enforcement_models import InspectionRound, Sanction
from portal.dashboard import Bar, Filters, Panel, Series, panel

ROUNDS_SHOWN = 6  # the latest rounds; older ones are on the staff page


@panel("institutions.inspections", title="专项整治检查进度", line="institutions", order=14)
def inspections(f: Filters) -> Panel:
    """Per round (the latest ones): the district's planned institutions, those visited, and
    those whose visit had failed items."""
    rounds = sel.round_progress(
        InspectionRound.objects.order_by("-starts_on", "-id")[:ROUNDS_SHOWN], district=f.district
    )
    rounds.reverse()

    def bars(attr):
        return [Bar(r.name, getattr(r, attr), f"/enforcement/staff/rounds/{r.pk}/")
                for r in rounds]  # fmt: skip

    return Panel(
        title="",
        series=[
            Series("计划检查", bars("n_planned")),
            Series("已检查", bars("n_visited")),
            Series("有不合格项", bars("n_failed"), colour="#cf222e"),
        ],
        unit="家",
    )


@panel("institutions.sanctions", title="行政处理（按类型，本月）", line="institutions", order=15)
def sanctions(f: Filters) -> Panel:
    counts = sel.sanctions_by_kind(district=f.district, start=f.start, end=f.end)
    bars = [Bar(k.label, counts.get(k.value, 0), "/enforcement/staff/") for k in Sanction.Kind]
    return Panel(title="", series=[Series("件数", bars)], unit="件")
