"""The bureau's dashboard: panels that each line of work registers, like its checks.

An app declares its panels in its ``dashboard.py``:

    @panel("afterschool.plans", title="课后服务方案", line="afterschool", order=40, kept=True)
    def plans(f: Filters) -> Panel:
        return Panel(...)

Each panel is one chart (bars, each linking to the rows behind it) computed in a fixed
number of queries whatever the size of the district, so the page costs the same for a
district of ten schools or a thousand (tests assert the count). The monthly Excel reports
are written from the same panels, so a report's figures are the dashboard's.

A panel whose figures add up a month of a whole district (``kept=True``) is computed once
and kept (portal.dashboard_models.PanelSnapshot, like the homework report's snapshot):
computed on the first view of a district and month, refreshed nightly for the month of
yesterday and today (``snapshots_refresh``), read with every other kept panel of the page in
one query; it shows when its figures were computed ("数据截至"). bench/dashboard_load.py
times each panel alone.
"""

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

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
    # the number of bars, and whether any has a value, before build(drawn_only=True) kept
    # only what the chart draws
    total_bars: int | None = None
    any_value: bool | None = None

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.series[0].bars] if self.series else []

    @property
    def rows(self) -> list[tuple[str, list[Bar]]]:
        """The chart as a table: each label with its bar in every series."""
        return [(label, [s.bars[i] for s in self.series]) for i, label in enumerate(self.labels)]

    @property
    def table_rows(self) -> list[tuple[str, list[Bar]]]:
        """The page's table: what the chart draws (the Excel report has every row); built
        for those rows only (a panel may have a bar for each of 1,000 schools)."""
        if not self.series:
            return []
        n = len(self.series[0].bars)
        n = n if self.chart_limit is None else min(n, self.chart_limit)
        return [(self.series[0].bars[i].label, [s.bars[i] for s in self.series]) for i in range(n)]

    @property
    def truncated(self) -> bool:
        """The chart and the table show only the first ``chart_limit`` bars."""
        if not self.series or self.chart_limit is None:
            return False
        total = len(self.series[0].bars) if self.total_bars is None else self.total_bars
        return total > self.chart_limit

    def drawn_only(self) -> "Panel":
        """Keep only the bars the chart draws (the page; the Excel report keeps them all)."""
        if self.series and self.chart_limit is not None:
            if self.total_bars is None:  # a kept panel knows it from its snapshot
                self.total_bars = len(self.series[0].bars)
                self.any_value = self.has_data
            for s in self.series:
                s.bars = s.bars[: self.chart_limit]
        return self

    @property
    def has_data(self) -> bool:
        if self.any_value is not None:
            return self.any_value
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
    kept: bool = False


_panels: dict[str, PanelSpec] = {}


def panel(key, *, title, line, order=100, kept=False):
    """Register a panel; ``kept=True``: computed once per district and month and kept,
    refreshed nightly (for panels that add up a month of a whole district)."""

    def decorator(func):
        _panels[key] = PanelSpec(key, title, line, order, func, kept)
        return func

    return decorator


def registry() -> list[PanelSpec]:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("dashboard")
    return sorted(_panels.values(), key=lambda p: (p.order, p.key))


def build(filters: Filters, *, line: str | None = None, drawn_only: bool = False) -> list[Panel]:
    """The panels (of one line of work); ``drawn_only``: each with only the bars its chart
    draws (the page: a panel may have a bar for each of 1,000 schools, the Excel report
    has them all)."""
    specs = [spec for spec in registry() if not line or spec.line == line]
    kept = kept_panels(filters, [spec for spec in specs if spec.kept], drawn_only=drawn_only)
    out = []
    for spec in specs:
        p = kept[spec.key] if spec.kept else spec.func(filters)
        p.key, p.line, p.title = spec.key, spec.line, p.title or spec.title
        out.append(p.drawn_only() if drawn_only else p)
    return out


# --- kept panels ----------------------------------------------------------------------------

KEPT_AT = gettext_lazy("数据截至")


def _dump(p: Panel) -> dict:
    """A panel as JSON: the labels once, each series' values and links."""
    return {  # str(): a title, note or figure may be a lazy translation
        "title": str(p.title), "unit": str(p.unit), "kind": p.kind, "note": str(p.note),
        "figures": [[str(name), str(value)] for name, value in p.figures],
        "chart_limit": p.chart_limit,
        "labels": p.labels,
        "series": [
            {"label": s.label, "colour": s.colour, "values": [b.value for b in s.bars],
             "urls": [b.url for b in s.bars]}
            for s in p.series
        ],
    }  # fmt: skip


def _load(data: dict, computed_at, *, drawn_only: bool = False) -> Panel:
    labels = data["labels"]
    n = data["chart_limit"] if drawn_only and data["chart_limit"] is not None else len(labels)
    series = [
        Series(
            s["label"],
            [
                Bar(label, v, url)
                for label, v, url in zip(labels[:n], s["values"][:n], s["urls"][:n], strict=True)
            ],
            colour=s["colour"],
        )  # fmt: skip
        for s in data["series"]
    ]
    at = timezone.localtime(computed_at).strftime("%Y-%m-%d %H:%M")
    return Panel(
        title=data["title"], series=series, unit=data["unit"], kind=data["kind"],
        note=data["note"], figures=[tuple(f) for f in data["figures"]] + [(str(KEPT_AT), at)],
        chart_limit=data["chart_limit"], total_bars=len(labels),
        any_value=any(v for s in data["series"] for v in s["values"]),
    )  # fmt: skip


def snapshot_store(filters: Filters, specs: list[PanelSpec]) -> dict:
    """Compute the panels ``specs`` of a district and month and keep them (one statement,
    INSERT ... ON CONFLICT: two first views at once both write, the later one wins).
    Returns {key: the kept row}."""
    from portal.dashboard_models import PanelSnapshot

    now = timezone.now()
    rows = [
        PanelSnapshot(
            key=spec.key,
            district=filters.district,
            month=filters.month,
            data=_dump(spec.func(filters)),
            computed_at=now,
        )  # fmt: skip
        for spec in specs
    ]
    with transaction.atomic():
        PanelSnapshot.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["district", "month", "key"],
            update_fields=["data", "computed_at"],
        )  # fmt: skip
    return {row.key: row for row in rows}


def kept_panels(
    filters: Filters, specs: list[PanelSpec], *, drawn_only: bool = False
) -> dict[str, Panel]:
    """The kept panels of a district and month, in one query; those not kept yet are
    computed now and kept. ``drawn_only``: only the bars each chart draws."""
    from portal.dashboard_models import PanelSnapshot

    if not specs:
        return {}
    found = {
        row.key: row
        for row in PanelSnapshot.objects.filter(
            district=filters.district, month=filters.month, key__in=[s.key for s in specs]
        ).only("key", "data", "computed_at")
    }
    missing = [spec for spec in specs if spec.key not in found]
    if missing:
        found.update(snapshot_store(filters, missing))
    return {
        spec.key: _load(found[spec.key].data, found[spec.key].computed_at, drawn_only=drawn_only)
        for spec in specs
    }


@shared_task(name="portal.dashboard.snapshots_refresh", acks_late=True)
def snapshots_refresh(month: str | None = None) -> int:
    """The nightly refresh of the kept panels: every district, the month of yesterday and
    the month of today (on the 1st the month just ended gets its last day), or ``month``.
    Returns the number of (district, month) refreshed."""
    today = timezone.localdate()
    months = [month] if month else sorted(
        {f"{today - dt.timedelta(days=1):%Y-%m}", f"{today:%Y-%m}"}
    )  # fmt: skip
    specs = [spec for spec in registry() if spec.kept]
    n = 0
    for district in District.objects.order_by("code"):
        for m in months:
            snapshot_store(Filters(district=district, month=m), specs)
            n += 1
    return n


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
