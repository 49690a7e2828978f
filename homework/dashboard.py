"""The homework panel on the bureau's dashboard: the 月报's figures (homework.reports)."""

import dataclasses

from django.utils import timezone

from homework import reports
from homework.models import ReportSnapshot
from portal.dashboard import Bar, Filters, Panel, Series, link, panel

BANDS = [("1-2 年级", 1, 2), ("3-6 年级", 3, 6), ("7-9 年级", 7, 9)]
# the kept rows are lists in ReportRow's field order (homework.reports.snapshot_refresh)
_AT = {f.name: i for i, f in enumerate(dataclasses.fields(reports.ReportRow))}
SCHOOL_ID, SCHOOL, GRADE = _AT["school_id"], _AT["school"], _AT["grade"]
CLASS_DAYS, OVER = _AT["class_days"], _AT["over_published"]


@panel(
    "homework.over_limit", title="作业公示超时（班·日，按学校与年级）", line="homework", order=20
)
def over_limit(f: Filters) -> Panel:
    # the kept report (nightly; computed on first view): a live sum over a month of a whole
    # district's homework takes seconds (bench/dashboard_load.py)
    # read as the lists they are kept as (a district of 1,000 schools has 9,000 rows: no
    # ReportRow objects for a chart)
    snap = (
        ReportSnapshot.objects.filter(district=f.district, month=f.month)
        .only("rows", "note", "computed_at").first()
    )  # fmt: skip
    if snap is None:
        snap = reports.snapshot_refresh(district=f.district, month=f.month)
    rows, computed_at, note = snap.rows, snap.computed_at, snap.note
    if note:
        return Panel(title="", series=[], note=note)
    # per school: the class-days over the limit in each band (the last slot: any other
    # grade, ranked but drawn in no band), in one pass over the rows
    band_of = {g: i for i, (_label, lo, hi) in enumerate(BANDS) for g in range(lo, hi + 1)}
    schools: dict[tuple[int, str], list[int]] = {}
    total = days = 0
    for r in rows:
        key = (r[SCHOOL_ID], r[SCHOOL])
        counts = schools.get(key)
        if counts is None:
            counts = schools[key] = [0] * (len(BANDS) + 1)
        counts[band_of.get(r[GRADE], len(BANDS))] += r[OVER]
        total += r[OVER]
        days += r[CLASS_DAYS]
    # every school, most class-days over the limit first; the chart draws the first 15
    ranked = sorted(schools.items(), key=lambda kv: (-sum(kv[1]), kv[0][1]))
    base = link("/homework/monthly/", district=f.district.pk, month=f.month)
    urls = [f"{base}&school={sid}" for (sid, _name), _counts in ranked]
    series = [
        Series(label, [Bar(name, counts[i], url)
                       for ((_sid, name), counts), url in zip(ranked, urls, strict=True)])
        for i, (label, _lo, _hi) in enumerate(BANDS)
    ]  # fmt: skip
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
