"""The institution's side, end to end (issue 16): the bureau opens an institution's account
and reads its one-time password; the institution's 管理员 logs in on a 390-px phone with it,
lands on its 机构工作台, files a course (a price over the cap is named first); the bureau
approves the filing; the course shows on the public whitelist page."""

import pytest
from django.core.cache import cache

from tests.e2e.pages import html
from tests.factories import PASSWORD
from tests.institutions.helpers import make_institution, training_staff
from tests.institutions.org_helpers import COURSE, term

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()


def login(page, base, username, password=PASSWORD):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def logout(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()


def test_an_account_a_filing_and_the_public_page(world, live_server, page):
    base = live_server.url
    staff = training_staff()
    term(world.school_a.district)
    inst = make_institution(staff, world.school_a.district, name="启航学科培训学校")

    # 1. the bureau opens the institution's 管理员 account
    login(page, base, staff.username)
    page.goto(f"{base}/org/bureau/accounts/?q=启航")
    page.get_by_role("link", name="开通管理员账号").click()
    page.get_by_label("登录账号").fill("qihang")
    page.get_by_label("管理员姓名").fill("周校长")
    page.get_by_role("button", name="开通并生成初始密码").click()
    password = page.get_by_test_id("initial-password").inner_text().strip()
    assert len(password) >= 12
    logout(page)

    # 2. the institution logs in on its phone and files a course
    login(page, base, "qihang", password)
    assert page.url.rstrip("/").endswith("/org")
    assert "启航学科培训学校" in html(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name="新增课程备案").first.click()
    for label, key in [("课程名称", "name"), ("每课时（分钟）", "lesson_minutes"),
                       ("班额（人）", "class_size"), ("开课日期", "term_start"),
                       ("结课日期", "term_end")]:  # fmt: skip
        page.get_by_label(label, exact=True).fill(COURSE[key])
    page.get_by_label("科目").select_option(label="数学")
    page.get_by_label("每生每课时价格（元）").fill("30")
    page.get_by_label("每周上课时间（每行一个，如：周六 09:00-10:30）").fill(COURSE["slots"])
    page.get_by_role("button", name="提交备案").click()
    assert "上限为 27.50 元" in html(page)
    page.get_by_label("每生每课时价格（元）").fill("25")
    page.get_by_role("button", name="提交备案").click()
    assert "已提交备案" in html(page) and "待备案" in html(page)
    logout(page)

    # not yet on the public page
    page.goto(f"{base}/institutions/{inst.pk}/")
    assert COURSE["name"] not in page.get_by_test_id("courses").inner_text()

    # 3. the bureau approves it
    login(page, base, staff.username)
    page.goto(f"{base}/org/bureau/filings/")
    page.get_by_role("link", name="审核").click()
    page.get_by_label("审核").select_option(label="通过备案")
    page.get_by_role("button", name="提交").click()
    assert "已通过备案" in html(page)
    logout(page)

    # 4. the public page shows it
    cache.clear()
    page.goto(f"{base}/institutions/{inst.pk}/")
    assert COURSE["name"] in page.get_by_test_id("courses").inner_text()
