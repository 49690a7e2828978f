import pytest

from tests.afterschool.helpers import family, offering
from tests.e2e.pages import html
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, base, username):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/parent/")


def test_a_parent_takes_the_last_place_and_the_next_one_waits(world, live_server, browser):
    offering(world.school_a, capacity=1, name="趣味编程")
    (first, _c1), (second, _c2) = family(world.class_a, 2)
    for user, expected in [(first, "已报名"), (second, "已进入候补，第 1 位")]:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        _login(page, live_server.url, user.username)
        page.get_by_role("link", name="课后服务选课").click()
        item = page.get_by_test_id("menu").locator("li", has_text="趣味编程")
        item.get_by_role("button").click()
        assert expected in html(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        context.close()
