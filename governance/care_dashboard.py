"""Dashboard panels of the care ledger (关爱帮扶 一人一档), imported by governance/dashboard.py:
counts only, never a pupil. Three queries in all whatever the number of records: the
records by category (one), the term and the records with their school and visit counts
(two)."""

from django.utils import timezone

from governance import care_selectors as sel
from portal.dashboard import Bar, Filters, Panel, Series, link, panel

OVERVIEW_URL = "/care/overview/"


@panel(
    "governance.care_categories", title="关爱对象（按类别）", line="governance", order=60, kept=True
)
def by_category(f: Filters) -> Panel:
    totals = sel.category_counts(f.district.pk, timezone.localdate())
    records = totals.pop("__records__")
    url = link(OVERVIEW_URL, district=f.district.pk)
    bars = [Bar(cat, n, url) for cat, n in totals.items()]
    return Panel(
        title="", series=[Series("人数", bars)], unit="人", figures=[("建档人数", str(records))]
    )


@panel("governance.care_visits", title="本学期关爱对象家访（按学校）", line="governance",
       order=61, kept=True)  # fmt: skip
def visits(f: Filters) -> Panel:
    counts, term = sel.school_counts(f.district.pk, timezone.localdate(), all_schools=False)
    url = link(OVERVIEW_URL, district=f.district.pk)
    owed = [Bar(c.school.name, c.owed, url) for c in counts]
    overdue = [Bar(c.school.name, c.overdue, url) for c in counts]
    return Panel(
        title="", series=[Series("仍需家访", owed), Series("逾期", overdue, "#c0392b")],
        unit="人", chart_limit=20,
        note="" if term else "今天不在学期内，家访不作统计。",
    )  # fmt: skip
