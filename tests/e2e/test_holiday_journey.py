"""Holiday care in a browser, on a phone: a parent enrols a child in two weeks of summer care
at a host school that is not the child's own, pays one week in the sandbox, and a third
week, already full, puts the child on the waiting list."""

import datetime as dt
import re

import pytest

from afterschool import fees, holiday
from afterschool.models import Bill, Enrolment
from tests.afterschool.helpers import family
from tests.afterschool.test_holiday_helpers import WEEK_1, WEEK_2, open_host
from tests.e2e.pages import html
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEEK_3 = dt.date(2027, 7, 19)


def _fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 390 + 2


def test_a_parent_enrols_two_summer_weeks_elsewhere_pays_and_waits(world, live_server, page):
    # 乙小学 hosts summer care for 甲小学's pupils: one place a week; week 3 is taken already
    _host, (week_1, week_2, week_3) = open_host(
        world, capacity=1, weeks=[WEEK_1, WEEK_2, WEEK_3], fee="200"
    )
    assert week_1.school_id != world.child_a.school_id
    ((other_parent, other_child),) = family(world.class_a, 1, prefix="summer")
    holiday.enrol_week(user=other_parent, child_id=other_child.pk, offering_id=week_3.pk)

    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill(world.parent_a.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/parent/")
    page.goto(live_server.url + "/holiday/")
    assert "乙小学 · 2027暑假" in html(page)
    assert _fits_the_phone(page)

    def week(offering):
        label = f"{offering.starts_on:%m-%d}–{offering.ends_on:%m-%d}"
        return page.get_by_test_id("holiday-week").filter(has_text=label)

    week(week_1).get_by_role("button", name="报名").click()
    assert "甲同学已报名" in html(page) and "已生成账单 200.00 元" in html(page)
    week(week_2).get_by_role("button", name="报名").click()
    assert week(week_2).get_by_test_id("holiday-status").inner_text() == "已报名"
    week(week_3).get_by_role("button", name="加入候补").click()
    assert "该周名额已满，甲同学已进入候补，第 1 位" in html(page)
    assert week(week_3).get_by_test_id("holiday-status").inner_text() == "候补中"
    assert _fits_the_phone(page)

    mine = Enrolment.objects.filter(child=world.child_a)
    assert dict(mine.values_list("offering_id", "status")) == {
        week_1.pk: "enrolled", week_2.pk: "enrolled", week_3.pk: "waiting"
    }  # fmt: skip
    assert not Bill.objects.filter(enrolment__offering=week_3, child=world.child_a).exists()

    # pay the first week in the sandbox, through the after-school bills page
    page.get_by_role("link", name="缴费").last.click()
    page.wait_for_url("**/afterschool/bills/")
    bill = Bill.objects.get(enrolment__offering=week_1, child=world.child_a)
    card = page.get_by_test_id(f"bill-{bill.pk}")
    assert "200.00 元" in card.inner_text()
    card.get_by_role("button", name="在线支付").click()
    page.wait_for_url(re.compile(r"/afterschool/sandbox/[^/]+/$"))
    assert page.get_by_test_id("amount").inner_text() == "200.00 元"
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_url("**/afterschool/payments/*/")
    assert page.get_by_role("heading", level=1).inner_text() == "缴费成功"
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID and fees.held(bill) == 200
    assert bill.school_id == world.school_b.pk  # the host school collects
