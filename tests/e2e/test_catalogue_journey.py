"""The course catalogue on phones (公益课程包, issue 19 part 3): a museum publishes a package,
a school orders it (an order over the capacity refused first, naming the rule), the bureau
dispatches it, the museum records the visit and the school confirms and rates it; the
report counts the pupils reached."""

import datetime as dt

import pytest
from django.utils import timezone

from supply.catalogue_models import CatalogueOrder, CatalogueVisit
from tests.factories import PASSWORD
from tests.post_routes.cases_catalogue import bureau_user, term_for, venue_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(browser, live_server, username):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return context, page


def test_a_school_orders_a_museum_package_and_confirms_its_delivery(world, live_server, browser):
    term = term_for(world.school_a.district)
    venue_member(username="museum_admin", name="区博物馆")
    bureau_user("cat_bureau")
    today = timezone.localdate()
    start = today - dt.timedelta(days=10)
    url = live_server.url

    # the museum publishes a package: 2 visits × 40 places, travel to the museum
    ctx, page = _login(browser, live_server, "museum_admin")
    page.goto(url + "/catalogue/packages/new/")
    page.get_by_label("学期").select_option(str(term.pk))
    page.get_by_label("课程包名称").fill("博物馆里的历史课")
    page.get_by_label("类别").select_option("history")
    page.get_by_label("形式").select_option("travel")
    page.get_by_label("三年级").check()
    page.get_by_label("四年级").check()
    page.get_by_label("场次", exact=True).fill("2")
    page.get_by_label("每场名额").fill("40")
    page.get_by_label("服务开始日期").fill(start.isoformat())
    page.get_by_label("服务结束日期").fill((today + dt.timedelta(days=20)).isoformat())
    page.get_by_role("button", name="发布").click()
    assert "已发布" in page.get_by_test_id("package-status").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ctx.close()

    # the school orders: 81 pupils is over 2 × 40, refused naming the rule; 60 is taken
    ctx, page = _login(browser, live_server, "pa")
    page.goto(url + "/catalogue/")
    page.get_by_role("link", name="博物馆里的历史课").click()
    form = page.get_by_test_id("order-form")
    form.get_by_label("学生人数").fill("81")
    form.get_by_label("希望日期").fill(today.isoformat())
    form.get_by_role("button", name="点单").click()
    assert (
        "超过课程包容量：场次 2 × 每场名额 40 人 = 80 人"
        in page.get_by_role("alert").first.inner_text()
    )
    assert not CatalogueOrder.objects.exists()
    form = page.get_by_test_id("order-form")
    form.get_by_label("学生人数").fill("60")
    form.get_by_label("希望日期").fill(today.isoformat())
    form.get_by_role("button", name="点单").click()
    assert "已点单" in page.get_by_test_id("order-status").inner_text()
    order = CatalogueOrder.objects.get()
    ctx.close()

    # the bureau dispatches by the rule
    ctx, page = _login(browser, live_server, "cat_bureau")
    page.goto(url + f"/catalogue/packages/{order.package_id}/")
    page.get_by_role("button", name="按规则派单").click()
    assert "第 1 顺位" in page.get_by_test_id("orders").inner_text()
    ctx.close()

    # the museum records the visit: 41 pupils is over the 40 places, refused; 38 recorded
    ctx, page = _login(browser, live_server, "museum_admin")
    page.goto(url + "/catalogue/orders/")
    page.get_by_role("link", name="博物馆里的历史课").click()
    assert "2 场 / 60 人" in page.get_by_test_id("granted").inner_text()
    form = page.get_by_test_id("visit-form")
    form.get_by_label("送课日期").fill(today.isoformat())
    form.get_by_label("服务学生数").fill("41")
    form.get_by_role("button", name="记录").click()
    assert "超过每场名额 40 人" in page.get_by_role("alert").first.inner_text()
    form = page.get_by_test_id("visit-form")
    form.get_by_label("服务学生数").fill("38")
    form.get_by_role("button", name="记录").click()
    assert "待确认" in page.get_by_test_id("visits").inner_text()
    ctx.close()

    # the school confirms and rates it
    ctx, page = _login(browser, live_server, "pa")
    page.goto(url + f"/catalogue/orders/{order.pk}/")
    visit = CatalogueVisit.objects.get()
    form = page.get_by_test_id(f"confirm-form-{visit.pk}")
    form.get_by_label("评分").select_option("5")
    form.get_by_label("评价").fill("讲解生动")
    form.get_by_role("button", name="确认送课").click()
    assert "5 分" in page.get_by_test_id("visits").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ctx.close()
    visit.refresh_from_db()
    assert (visit.rating, visit.confirmed_by) == (5, world.principal_a)

    # the bureau's report counts the pupils reached
    ctx, page = _login(browser, live_server, "cat_bureau")
    page.goto(url + "/catalogue/report/")
    row = page.get_by_test_id("by-venue").inner_text()
    assert "区博物馆" in row and "38" in row
    ctx.close()
