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
    colour: str = ""  # a meaning of its own (severity red/amber/grey); else the palette's

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

    @property
    def table_rows(self) -> list[tuple[str, list[Bar]]]:
        """The page's table: what the chart draws (the Excel report has every row)."""
        return self.rows[: self.chart_limit]

    @property
    def has_data(self) -> bool:
        return any(b.value for s in self.series for b in s.bars)

    def as_chart(self) -> dict:
        """What static/portal/dashboard.js draws (the first ``chart_limit`` bars)."""
        n = self.chart_limit
        return {
            "key": self.key,
            "kind": self.kind,
            "unit": self.unit,
            "labels": self.labels[:n],
            "series": [
                {
                    "label": s.label,
                    "values": [b.value for b in s.bars][:n],
                    "urls": [b.url for b in s.bars][:n],
                    "colour": s.colour,
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


def findings_in(district):
    """The findings of a district: about its schools, assigned to one, or about one of its
    institutions (the dashboard's bars and the rows behind them use this same filter)."""
    from django.apps import apps
    from django.db.models import Q

    institution = apps.get_model("institutions", "Institution")  # its id only, no internals
    return Finding.objects.filter(
        Q(school__district=district)
        | Q(assigned_school__district=district)
        | Q(institution_id__in=institution.objects.filter(district=district).values("pk"))
    )


SEVERITIES = [Finding.Severity.SERIOUS, Finding.Severity.WARNING, Finding.Severity.INFO]
SEVERITY_COLOURS = {"serious": "#cf222e", "warning": "#d29922", "info": "#6e7781"}
AGES = [("7 天内", 0, 7), ("8-30 天", 8, 30), ("31-90 天", 31, 90), ("90 天以上", 91, None)]
FINDINGS_URL = "/dashboard/findings/"


@panel("portal.findings", title="未消除的检查发现（按严重程度与时长）", line="checks", order=90)
def open_findings(f: Filters) -> Panel:
    today = timezone.localdate()
    rows = (
        findings_in(f.district)
        .filter(resolved_at__isnull=True)
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
            colour=SEVERITY_COLOURS[s],
        )
        for s in SEVERITIES
    ]
    return Panel(title="", series=series, unit="条")


@panel("portal.findings_trend", title="近 30 晚未消除的检查发现", line="checks", order=91)
def findings_trend(f: Filters) -> Panel:
    end = min(timezone.localdate(), f.end)
    start = end - dt.timedelta(days=29)
    tz = timezone.get_current_timezone()
    spans = [
        (first, resolved.astimezone(tz).date() if resolved else None)
        for first, resolved in findings_in(f.district)
        .filter(first_seen__lte=end)
        .exclude(resolved_at__date__lt=start)
        .values_list("first_seen", "resolved_at")
        .iterator()
    ]
    days = [start + dt.timedelta(days=i) for i in range(30)]

    def open_on(d):  # seen by then and not yet resolved by then
        return sum(1 for first, gone in spans if first <= d and (gone is None or gone > d))

    bars = [
        Bar(f"{d:%m-%d}", open_on(d), link(FINDINGS_URL, district=f.district.pk, on=d.isoformat()))
        for d in days
    ]
    run = CheckRun.objects.order_by("-started_at").first()
    figures = []
    if run is not None:
        took = f"{run.duration.total_seconds():.1f} 秒" if run.duration else "未结束"
        figures = [("最近一次检查", f"{run.for_date}（{run.get_status_display()}，用时 {took}）")]
        if run.error:
            figures.append(("错误", run.error.strip().splitlines()[-1][:200]))
    return Panel(title="", series=[Series("未消除", bars)], unit="条", kind="line", figures=figures)
