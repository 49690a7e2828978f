"""Dashboard panels of the funding part (portal.dashboard.panel): teachers under the
subsidy floor per school in the month (three queries)."""

from afterschool.funding_selectors import pay_rows
from portal.dashboard import Bar, Filters, Panel, Series, link, panel
from portal.models import School

TITLE = "教师课时补助低于标准的人数（按学校）"


@panel("afterschool.funding", title=TITLE, line="afterschool", order=48, kept=True)
def teachers_under_floor(f: Filters) -> Panel:
    rows = pay_rows(School.objects.filter(district=f.district), f.start, f.end)
    per_school, paid = {}, 0
    for row in rows:
        per_school.setdefault(row.school, 0)
        if row.under:
            per_school[row.school] += 1
        paid += row.paid or 0
    url = link("/funding/", month=f.month)
    bars = [Bar(s.name, n, url) for s, n in sorted(per_school.items(), key=lambda x: -x[1])]
    figures = [
        ("低于标准的教师", str(sum(per_school.values()))),
        ("上报实发补助（元）", f"{paid:.2f}"),
    ]
    return Panel(title="", series=[Series("人数", bars)], unit="人", figures=figures)
