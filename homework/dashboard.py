"""The homework panel on the bureau's dashboard: the 月报's figures (homework.reports)."""

from django.utils import timezone

from homework import reports
from portal.dashboard import Bar, Filters, Panel, Series, link, panel

BANDS = [("1-2 年级", 1, 2), ("3-6 年级", 3, 6), ("7-9 年级", 7, 9)]


@panel(
    "homework.over_limit", title="作业公示超时（班·日，按学校与年级）", line="homework", order=20
)
def over_limit(f: Filters) -> Panel:
    # the kept report (nightly; computed on first view): a live sum over a month of a whole
    # district's homework takes seconds (bench/dashboard_load.py)
    rows, computed_at, note = reports.snapshot(district=f.district, month=f.month)
    if note:
        return Panel(title="", series=[], note=note)
    schools = {}
    for r in rows:
        schools.setdefault((r.school_id, r.school), {}).setdefault(r.grade, 0)
        schools[(r.school_id, r.school)][r.grade] += r.over_published
    # every school, most class-days over the limit first; the chart draws the first 15
    ranked = sorted(schools.items(), key=lambda kv: (-sum(kv[1].values()), kv[0][1]))
    series = []
    for label, lo, hi in BANDS:
        bars = [
            Bar(
                name,
                sum(n for g, n in grades.items() if lo <= g <= hi),
                link("/homework/monthly/", district=f.district.pk, month=f.month, school=sid),
            )
            for (sid, name), grades in ranked
        ]
        series.append(Series(label, bars))
    total = sum(r.over_published for r in rows)
    days = sum(r.class_days for r in rows)
    share = f"{100 * total / days:.1f}%" if days else "—"
    return Panel(
        title="",
        series=series,
        unit="班·日",
        chart_limit=15,
        figures=[
            ("超时班·日", str(total)),
            ("占全部班·日", share),
            ("数据截至", timezone.localtime(computed_at).strftime("%Y-%m-%d %H:%M")),
        ],
    )


from homework import design_dashboard  # noqa: E402, F401
