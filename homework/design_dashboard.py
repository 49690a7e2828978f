"""Dashboard panel of the homework design library (imported by homework/dashboard.py): the
share of the month's published homework drawn from reviewed designs, per school. Two
queries whatever the number of schools and items."""

from homework import design_selectors as sel
from portal.dashboard import Bar, Filters, Panel, Series, link, panel
from portal.models import School

REPORT_URL = "/homework/designs/report/"


# kept (portal.dashboard): a month of a whole district's homework (650,000 items for 1,000
# schools) takes about a second to add up
@panel("homework.design_share", title="公示作业选用审核通过的作业设计占比（按学校）",
       line="homework", order=60, kept=True)  # fmt: skip
def design_share(f: Filters) -> Panel:
    shares = sel.drawn_share(f.district.pk, f.start, f.end)
    schools = School.objects.filter(district=f.district).order_by("code").only("pk", "name")
    url = link(REPORT_URL, district=f.district.pk, month=f.month)
    bars, items_all, drawn_all = [], 0, 0
    for s in schools:
        items, drawn = shares.get(s.pk, (0, 0))
        items_all += items
        drawn_all += drawn
        bars.append(Bar(s.name, round(100 * drawn / items, 1) if items else 0, url))
    return Panel(
        title="", series=[Series("占比", bars)], unit="%", chart_limit=20,
        figures=[("本月公示作业", str(items_all)), ("选用作业设计", str(drawn_all))],
    )  # fmt: skip
