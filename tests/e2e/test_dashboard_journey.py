"""Bureau staff open the dashboard, see every chart drawn, click a bar of the findings chart
and land on exactly the rows behind it."""

import datetime as dt
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from portal.models import Finding
from tests.factories import PASSWORD, SchoolFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(os.environ.get("PORTAL_E2E_SCREENSHOTS", "var/e2e")) / "dashboard.png"


def _finding(school, message, *, severity, days_ago, rule="portal.test"):
    today = timezone.localdate()
    return Finding.objects.create(
        rule=rule,
        severity=severity,
        subject_key=f"k:{school.pk}:{message}",
        subject_repr=school.name,
        school=school,
        message=message,
        first_seen=today - dt.timedelta(days=days_ago),
        last_seen=today,
    )


def test_staff_click_a_findings_bar_and_land_on_its_rows(world, live_server, browser):
    a = world.school_a
    _finding(a, "严重-三天", severity="serious", days_ago=3)
    _finding(a, "严重-五天", severity="serious", days_ago=5, rule="portal.other")
    _finding(a, "严重-四十天", severity="serious", days_ago=40)
    _finding(a, "警告-十天", severity="warning", days_ago=10)
    _finding(a, "提示-百天", severity="info", days_ago=100)
    gone = _finding(a, "严重-已消除", severity="serious", days_ago=2, rule="portal.gone")
    Finding.objects.filter(pk=gone.pk).update(resolved_at=timezone.now())
    _finding(SchoolFactory(name="外区学校"), "外区-严重-一天", severity="serious", days_ago=1)
    staff = UserFactory(username="dash", is_staff=True)
    for name in ("校外培训", "基础教育/作业", "课后服务", "案例库"):
        staff.groups.add(Group.objects.get(name=name))

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("dash")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/dashboard/")  # staff land on the dashboard, through /me/

    page.goto(live_server.url + f"/dashboard/?district={a.district_id}")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() >= 2
    drawn = page.evaluate(
        "[...document.querySelectorAll('canvas[data-chart]')].map(c => c.dataset.drawn)"
    )
    assert drawn == ["true"] * canvases.count()
    assert page.get_by_test_id("panel-portal.findings").locator("canvas").count() == 1

    datasets = page.evaluate(
        """() => window.dashboardCharts["portal.findings"].data.datasets
                   .map(d => ({label: d.label, data: d.data}))"""
    )
    assert datasets == [
        {"label": "严重", "data": [2, 0, 1, 0]},
        {"label": "警告", "data": [0, 1, 0, 0]},
        {"label": "提示", "data": [0, 0, 0, 1]},
    ]
    assert page.evaluate('window.dashboardCharts["portal.findings"].data.labels') == [
        "7 天内", "8-30 天", "31-90 天", "90 天以上",
    ]  # fmt: skip

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # the 严重 / 7 天内 bar: scroll it into view, then click the middle of it
    page.evaluate(
        """() => window.dashboardCharts["portal.findings"].canvas
                   .scrollIntoView({block: "center"})"""
    )
    x, y = page.evaluate(
        """() => {
          const chart = window.dashboardCharts["portal.findings"];
          const bar = chart.getDatasetMeta(0).data[0];
          const box = chart.canvas.getBoundingClientRect();
          return [box.left + bar.x, box.top + (bar.y + bar.base) / 2];
        }"""
    )
    assert 0 <= x <= 1280 and 0 <= y <= 900
    page.mouse.click(x, y)
    page.wait_for_url("**/dashboard/findings/?*")

    query = parse_qs(urlsplit(page.url).query)
    assert query == {"district": [str(a.district_id)], "severity": ["serious"], "age": ["7 天内"]}
    assert page.get_by_test_id("count").inner_text().startswith("共 2 条")
    rows = page.get_by_test_id("findings").locator("tbody tr")
    assert rows.count() == 2
    got = sorted(tuple(rows.nth(i).locator("td").all_inner_texts()[:4]) for i in range(2))
    today = timezone.localdate()
    assert got == [
        ("严重", "严重-三天", "甲小学", f"{today - dt.timedelta(days=3):%Y-%m-%d}"),
        ("严重", "严重-五天", "甲小学", f"{today - dt.timedelta(days=5):%Y-%m-%d}"),
    ]
    context.close()
