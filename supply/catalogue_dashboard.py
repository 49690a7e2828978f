"""Dashboard panels of the course catalogue (公益课程包), imported by supply/dashboard.py, on
the after-school line (so the monthly Excel report /dashboard/report/afterschool/ carries
them): the month's pupils reached per venue and per school, one query each."""

from portal.dashboard import Bar, Filters, Panel, Series, link, panel
from supply import catalogue_selectors as sel

REPORT_URL = "/catalogue/report/"


@panel("supply.catalogue_venues", title="本月公益课程包服务学生人次（按场馆）",
       line="afterschool", order=70, kept=True)  # fmt: skip
def by_venue(f: Filters) -> Panel:
    rows = sel.reached_by_venue(district_id=f.district.pk, start=f.start, end=f.end)
    url = link(REPORT_URL)
    bars = [Bar(r["order__package__organisation__name"], r["pupils"] or 0, url) for r in rows]
    visits = [Bar(r["order__package__organisation__name"], r["visits"], url) for r in rows]
    return Panel(
        title="", series=[Series("服务学生人次", bars), Series("送课场次", visits)],
        unit="人次", chart_limit=20,
        figures=[("服务学生人次", str(sum(b.value for b in bars)))],
    )  # fmt: skip


@panel("supply.catalogue_schools", title="本月公益课程包服务学生人次（按学校）",
       line="afterschool", order=71, kept=True)  # fmt: skip
def by_school(f: Filters) -> Panel:
    rows = sel.reached_by_school(district_id=f.district.pk, start=f.start, end=f.end)
    url = link(REPORT_URL)
    bars = [Bar(r["order__school__name"], r["pupils"] or 0, url) for r in rows]
    return Panel(title="", series=[Series("服务学生人次", bars)], unit="人次", chart_limit=20)
