"""The dashboard's kept panels (portal.dashboard, kept=True; issue 20): a panel that adds up
a month of a whole district is computed on the first view of a district and month, kept
(portal.dashboard_models.PanelSnapshot), read with every other kept panel in one query, and
refreshed nightly for the months of yesterday and today."""

import datetime as dt

import pytest
from django.utils import timezone

from afterschool.models import SchoolPlan
from portal import dashboard
from portal.dashboard import Filters
from portal.dashboard_models import PanelSnapshot
from tests.afterschool.helpers import term_for
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db


def month():
    return f"{timezone.localdate():%Y-%m}"


def kept_specs():
    return [spec for spec in dashboard.registry() if spec.kept]


def plan(school, status="in_effect"):
    return SchoolPlan.objects.create(
        school=school, term=term_for(school.district), weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(15, 30), end_time=dt.time(17, 30), items="托管", status=status,
    )  # fmt: skip


def in_effect(panels):
    plans = next(p for p in panels if p.key == "afterschool.plans")
    return dict(zip(plans.labels, [b.value for b in plans.series[0].bars], strict=True))["实施中"]


def test_a_kept_panel_is_computed_on_first_view_then_kept_until_the_refresh(world):
    district = world.school_a.district
    plan(SchoolFactory(district=district))
    f = Filters(district=district, month=month())
    assert in_effect(dashboard.build(f, line="afterschool")) == 1  # the first view computes
    kept = PanelSnapshot.objects.filter(district=district, month=f.month)
    assert set(kept.values_list("key", flat=True)) == {
        s.key for s in kept_specs() if s.line == "afterschool"
    }
    plan(SchoolFactory(district=district))  # after the snapshot
    panels = dashboard.build(f, line="afterschool")
    assert in_effect(panels) == 1  # the kept figures, not a live count
    plans = next(p for p in panels if p.key == "afterschool.plans")
    assert dict(plans.figures)[dashboard.KEPT_AT]  # says when it was computed
    assert dashboard.snapshots_refresh(month=f.month) >= 1
    assert in_effect(dashboard.build(f, line="afterschool")) == 2


def test_the_kept_panels_of_a_page_are_read_in_one_query(world, django_assert_num_queries):
    f = Filters(district=world.school_a.district, month=month())
    specs = kept_specs()
    assert len(specs) > 1
    dashboard.kept_panels(f, specs)  # computed and kept
    with django_assert_num_queries(1):
        panels = dashboard.kept_panels(f, specs)
    assert set(panels) == {s.key for s in specs}
    # and each equals what computing it gives now (nothing changed in between)
    for spec in specs:
        fresh = spec.func(f)
        assert panels[spec.key].labels == fresh.labels
        assert [[b.value for b in s.bars] for s in panels[spec.key].series] == [
            [b.value for b in s.bars] for s in fresh.series
        ]
        assert [[b.url for b in s.bars] for s in panels[spec.key].series] == [
            [b.url for b in s.bars] for s in fresh.series
        ]


def test_storing_again_replaces_the_kept_rows(world):
    f = Filters(district=world.school_a.district, month=month())
    first = dashboard.snapshot_store(f, kept_specs())
    again = dashboard.snapshot_store(f, kept_specs())  # a second first view, or the night
    rows = PanelSnapshot.objects.filter(district=f.district, month=f.month)
    assert rows.count() == len(kept_specs())
    assert all(again[k].computed_at >= first[k].computed_at for k in first)


@pytest.mark.parametrize(
    ("today", "months"),
    [
        (dt.date(2026, 12, 1), {"2026-11", "2026-12"}),  # the month just ended gets its last day
        (dt.date(2026, 12, 2), {"2026-12"}),
    ],
)
def test_the_nightly_refresh_covers_the_months_of_yesterday_and_today(
    world, monkeypatch, today, months
):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today)
    from portal.models import District

    n = dashboard.snapshots_refresh()
    assert n == District.objects.count() * len(months)
    assert set(PanelSnapshot.objects.values_list("month", flat=True)) == months


def test_a_panel_that_fails_keeps_nothing(world, monkeypatch):
    def broken(f):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        dashboard._panels, "test.broken",
        dashboard.PanelSpec("test.broken", "坏图表", "afterschool", 999, broken, kept=True),
    )  # fmt: skip
    f = Filters(district=world.school_a.district, month=month())
    with pytest.raises(RuntimeError):
        dashboard.build(f, line="afterschool")
    assert not PanelSnapshot.objects.exists()  # fail closed: no half-kept page


@pytest.mark.parametrize("kept", [False, True])
def test_the_page_builds_only_the_drawn_bars_and_the_report_all(world, monkeypatch, kept):
    def many(f):  # 30 schools, only the last one with a value
        bars = [dashboard.Bar(f"学校{i:02d}", 1 if i == 29 else 0) for i in range(30)]
        return dashboard.Panel(title="", series=[dashboard.Series("数", bars)], chart_limit=20)

    monkeypatch.setitem(
        dashboard._panels, "test.many",
        dashboard.PanelSpec("test.many", "多校图表", "afterschool", 999, many, kept=kept),
    )  # fmt: skip
    f = Filters(district=world.school_a.district, month=month())
    page = next(p for p in dashboard.build(f, drawn_only=True) if p.key == "test.many")
    assert len(page.series[0].bars) == 20 and len(page.table_rows) == 20
    assert page.truncated and page.has_data  # the 30th school's value still counts
    assert len(page.as_chart()["labels"]) == 20
    report = next(p for p in dashboard.build(f, line="afterschool") if p.key == "test.many")
    assert len(report.series[0].bars) == 30 and report.series[0].bars[29].value == 1
    assert report.truncated and report.has_data
