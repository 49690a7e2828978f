"""The bureau's dashboard: panels that each line of work registers, like its checks.

An app declares its panels in its ``dashboard.py``:

    @panel("afterschool.plans", title="课后服务方案", line="afterschool", order=40)
    def plans(f: Filters) -> Panel:
        return Panel(...)

Each panel is one chart (bars, each linking to the rows behind it) computed in a fixed
number of queries whatever the size of the district, so the page costs the same for a
district of ten schools or a thousand (tests assert the count). The monthly Excel reports
are written from the same panels, so a report's figures are the dashboard's.
"""

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connection
from django.utils import timezone

from portal.models import CheckRun, District, Finding


@dataclass(frozen=True)
class Filters:
    district: District
    month: str  # YYYY-MM

    @property
    def start(self) -> dt.date:
        y, m = (int(x) for x in self.month.split("-"))
        return dt.date(y, m, 1)

    @property
    def end(self) -> dt.date:
        y, m = (int(x) for x in self.month.split("-"))
        return dt.date(y, m, calendar.monthrange(y, m)[1])


@dataclass
class Bar:
    label: str
    value: float
    url: str = ""

    def __post_init__(self):
        self.label = str(self.label)  # choices' labels are lazy translations
        self.value = float(self.value) if not isinstance(self.value, int) else self.value


@dataclass
class Series:
    label: str
    bars: list[Bar]

    def __post_init__(self):
        self.label = str(self.label)


@dataclass
class Panel:
    title: str
    series: list[Series]
    unit: str = ""
    kind: str = "bar"  # or "line"
    note: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)  # headline numbers
    key: str = ""
    line: str = ""
    # the chart shows the first bars only (the table and the Excel report show them all)
    chart_limit: int | None = None

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.series[0].bars] if self.series else []

    @property
    def rows(self) -> list[tuple[str, list[Bar]]]:
        """The chart as a table: each label with its bar in every series."""
        return [(label, [s.bars[i] for s in self.series]) for i, label in enumerate(self.labels)]

    def as_chart(self) -> dict:
        """What static/portal/dashboard.js draws."""
        return {
            "key": self.key,
            "kind": self.kind,
            "unit": self.unit,
            "labels": self.labels,
            "series": [
                {
                    "label": s.label,
                    "values": [b.value for b in s.bars],
                    "urls": [b.url for b in s.bars],
                }
                for s in self.series
            ],
        }


@dataclass
class PanelSpec:
    key: str
    title: str
    line: str
    order: int
    func: Callable


_panels: dict[str, PanelSpec] = {}


def panel(key, *, title, line, order=100):
    def decorator(func):
        _panels[key] = PanelSpec(key, title, line, order, func)
        return func

    return decorator


def registry() -> list[PanelSpec]:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("dashboard")
    return sorted(_panels.values(), key=lambda p: (p.order, p.key))


def build(filters: Filters, *, line: str | None = None) -> list[Panel]:
    out = []
    for spec in registry():
        if line and spec.line != line:
            continue
        p = spec.func(filters)
        p.key, p.line, p.title = spec.key, spec.line, p.title or spec.title
        out.append(p)
    return out


def link(path: str, **params) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(params)}" if params else path


# --- the portal's own panels: the nightly checks ------------------------------------------

SEVERITIES = [Finding.Severity.SERIOUS, Finding.Severity.WARNING, Finding.Severity.INFO]
AGES = [("7 天内", 0, 7), ("8-30 天", 8, 30), ("31-90 天", 31, 90), ("90 天以上", 91, None)]
FINDINGS_URL = "/dashboard/findings/"


@panel("portal.findings", title="未消除的检查发现（按严重程度与时长）", line="checks", order=90)
def open_findings(f: Filters) -> Panel:
    today = timezone.localdate()
    rows = (
        Finding.objects.filter(resolved_at__isnull=True)
        .filter(school__district=f.district)
        .values_list("severity", "first_seen")
    )
    counts = {(s, a[0]): 0 for s in SEVERITIES for a in AGES}
    for severity, first_seen in rows.iterator():
        days = (today - first_seen).days
        for label, lo, hi in AGES:
            if days >= lo and (hi is None or days <= hi):
                counts[(severity, label)] += 1
    series = [
        Series(
            Finding.Severity(s).label,
            [
                Bar(
                    label,
                    counts[(s, label)],
                    link(FINDINGS_URL, district=f.district.pk, severity=s, age=label),
                )
                for label, _lo, _hi in AGES
            ],
        )
        for s in SEVERITIES
    ]
    return Panel(title="", series=series, unit="条")


TREND_SQL = """
SELECT d::date, COUNT(f.id)
FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
LEFT JOIN portal_finding f
       ON f.first_seen <= d::date
      AND (f.resolved_at IS NULL OR (f.resolved_at AT TIME ZONE %(tz)s)::date > d::date)
      AND f.school_id IN (SELECT id FROM portal_school WHERE district_id = %(district)s)
GROUP BY d ORDER BY d
"""


@panel("portal.findings_trend", title="近 30 晚未消除的检查发现", line="checks", order=91)
def findings_trend(f: Filters) -> Panel:
    end = min(timezone.localdate(), f.end)
    start = end - dt.timedelta(days=29)
    with connection.cursor() as cursor:
        cursor.execute(
            TREND_SQL,
            {
                "start": start,
                "end": end,
                "district": f.district.pk,
                "tz": str(timezone.get_current_timezone()),
            },
        )
        rows = cursor.fetchall()
    bars = [
        Bar(f"{d:%m-%d}", n, link(FINDINGS_URL, district=f.district.pk, on=d.isoformat()))
        for d, n in rows
    ]
    run = CheckRun.objects.order_by("-started_at").first()
    figures = []
    if run is not None:
        took = f"{run.duration.total_seconds():.1f} 秒" if run.duration else "未结束"
        figures = [("最近一次检查", f"{run.for_date}（{run.get_status_display()}，用时 {took}）")]
        if run.error:
            figures.append(("错误", run.error.strip().splitlines()[-1][:200]))
    return Panel(title="", series=[Series("未消除", bars)], unit="条", kind="line", figures=figures)
