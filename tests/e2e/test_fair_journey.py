"""The matching fair (双向选择会) in a phone browser: a school posts a need, an admitted
provider (organisation account) offers, both mark their choices, the bureau matches, and
the school sees the provider it was matched with (a draft contract at the offer's price)."""

import pytest

from afterschool.models import ProviderContract
from tests.e2e.pages import html
from tests.factories import PASSWORD
from tests.supply.fair_helpers import bureau_as, fair_of, provider_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.context.clear_cookies()
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def fits_a_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_school_and_a_provider_choose_each_other_and_the_bureau_matches(world, live_server, page):
    base = live_server.url
    fair = fair_of(world.school_a.district, name="春季双向选择会")
    provider_member("org_a", name="阳光体育")
    bureau_as("bureau_fair")

    # the principal posts a need (a refused one first: no grade chosen)
    login(page, base, "pa")
    page.goto(f"{base}/fair/")
    page.get_by_role("link", name="春季双向选择会").click()
    page.get_by_role("link", name="发布需求").click()
    page.get_by_label("课程类别").select_option("sports")
    page.get_by_label("周二").check()
    page.get_by_label("学生人数").fill("30")
    page.get_by_label("课时预算（元）").fill("60")
    page.get_by_role("button", name="发布").click()
    assert "请至少选择一个年级" in page.get_by_role("alert").first.inner_text()
    page.get_by_label("三年级").check()
    page.get_by_role("button", name="发布").click()
    assert "需求已发布" in html(page)
    assert "目前没有相容的对象" in html(page)
    fits_a_phone(page)

    # the provider offers below its outside price, and ranks the school's need first
    login(page, base, "org_a")
    page.goto(f"{base}/fair/{fair.pk}/")
    page.get_by_role("link", name="发布供给").click()
    page.get_by_label("课程名称").fill("篮球")
    page.get_by_label("课程类别").select_option("sports")
    page.get_by_label("三年级").check()
    page.get_by_label("四年级").check()
    page.get_by_label("周二").check()
    page.get_by_label("每班人数").fill("30")
    page.get_by_label("课时单价（元）").fill("50")
    page.get_by_label("校外同类课时价（元）").fill("120")
    page.get_by_role("button", name="发布").click()
    assert "供给已发布" in html(page)
    page.get_by_label("甲小学·体育").fill("1")
    page.get_by_role("button", name="保存志愿").click()
    assert "志愿已保存（1个）" in html(page)
    fits_a_phone(page)

    # the school ranks the offer first
    login(page, base, "pa")
    page.goto(f"{base}/fair/{fair.pk}/")
    page.get_by_role("link", name="体育").click()
    page.get_by_label("阳光体育·篮球").fill("1")
    page.get_by_role("button", name="保存志愿").click()
    assert "志愿已保存（1个）" in html(page)

    # the bureau presses 匹配 once
    login(page, base, "bureau_fair")
    page.goto(f"{base}/fair/{fair.pk}/")
    page.get_by_role("button", name="匹配").click()
    assert "匹配完成：1项需求已匹配" in html(page)
    assert "已匹配" in page.get_by_test_id("fair-status").inner_text()
    contract = ProviderContract.objects.get()
    assert contract.price_per_lesson == 50 and contract.provider.name == "阳光体育"

    # the school sees the provider it was matched with
    login(page, base, "pa")
    page.goto(f"{base}/fair/{fair.pk}/")
    assert "已匹配：阳光体育·篮球" in page.get_by_test_id("needs").inner_text()
    fits_a_phone(page)
