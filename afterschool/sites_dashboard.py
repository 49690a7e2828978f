"""Dashboard panels of the sites part (portal.dashboard.panel): community sites' use.

One query whatever the number of sites (afterschool.sites_selectors.sites_with_use: the
courses, places and roll-call marks of each site as subqueries of one statement)."""

from django.utils import timezone

from afterschool import sites_selectors as sel
from portal.dashboard import Bar, Filters, Panel, Series, panel

URL = "/sites/"


@panel("afterschool.sites", title="社区托管点使用情况", line="afterschool", order=45, kept=True)
def use(f: Filters) -> Panel:
    rows = sel.with_state(
        sel.sites_with_use(district=f.district, start=f.start, end=f.end), timezone.localdate()
    )
    offered = [Bar(r.name, r.places, URL) for r in rows]
    taken = [Bar(r.name, r.taken, URL) for r in rows]
    present = sum(r.present for r in rows)
    marked = sum(r.marked for r in rows)
    figures = [
        ("托管点", str(len(rows))),
        ("暂停开放（安全检查过期或停用）", str(sum(1 for r in rows if r.problem))),
        ("开课", str(sum(r.courses for r in rows))),
        ("本月出勤率", f"{100 * present / marked:.1f}%" if marked else "—"),
    ]
    return Panel(
        title="", series=[Series("开放名额", offered), Series("已报名", taken)], unit="人",
        figures=figures, chart_limit=20,
    )  # fmt: skip
