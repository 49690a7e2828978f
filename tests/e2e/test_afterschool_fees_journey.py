import datetime as dt
import re

import pytest
from django.utils import timezone

from afterschool import enrolment, fees
from afterschool.models import Attendance, Bill, Lesson
from tests.afterschool.fees_helpers import early, paid_course, today
from tests.afterschool.helpers import family
from tests.e2e.pages import html
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, base, username, lands="**/parent/"):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lands)


def _fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 390 + 2


def _started_a_while_ago():
    """A lesson time of today that has already started in real time (the roll-call opens
    at the start): from ten minutes ago (not before 00:00) for an hour (not past 23:59)."""
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - dt.timedelta(minutes=10), midnight)
    end = min(start + dt.timedelta(hours=1), now.replace(hour=23, minute=59, second=0))
    return start.time().replace(second=0, microsecond=0), end.time().replace(microsecond=0)


def test_a_parent_enrols_pays_in_the_sandbox_and_sees_the_receipt(world, live_server, page):
    # the page enrols in real time: its lessons start next week (3 lessons × 20 yuan, per term)
    course = paid_course(world.school_a, weeks=(1, 2, 3))
    _login(page, live_server.url, world.parent_a.username)
    page.get_by_role("link", name="课后服务选课").click()
    item = page.get_by_test_id("menu").locator("li", has_text="创意美术")
    item.get_by_role("button", name="报名").click()
    assert "甲同学已报名“创意美术”" in html(page)

    page.goto(live_server.url + "/parent/")
    page.get_by_role("link", name="缴费与考勤").click()
    page.wait_for_url("**/afterschool/bills/")
    bill = Bill.objects.get(enrolment__offering=course, child=world.child_a)
    card = page.get_by_test_id(f"bill-{bill.pk}")
    assert "60.00 元" in card.inner_text() and "待缴费" in card.inner_text()
    assert _fits_the_phone(page)
    card.get_by_role("button", name="在线支付").click()

    page.wait_for_url(re.compile(r"/afterschool/sandbox/[^/]+/$"))
    assert page.title().startswith("演示支付网关")
    assert page.get_by_test_id("amount").inner_text() == "60.00 元"
    assert _fits_the_phone(page)
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.get_by_role("button", name="确认支付").click()

    page.wait_for_url(f"**/afterschool/payments/{reference}/")
    assert page.get_by_role("heading", level=1).inner_text() == "缴费成功"
    assert page.get_by_test_id("status").inner_text().startswith("支付成功")
    assert _fits_the_phone(page)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID
    assert fees.held(bill) == bill.amount == 60


def test_a_teacher_takes_the_roll_call_on_a_phone(world, live_server, browser):
    start, end = _started_a_while_ago()  # the roll-call opens when the lesson starts
    course = paid_course(world.school_a, start=start, end=end)  # taught by world.teacher_a
    ((other_parent, other_child),) = family(world.class_a, 1)
    for user, child in [(world.parent_a, world.child_a), (other_parent, other_child)]:
        enrolment.enrol(user=user, child_id=child.pk, offering_id=course.pk, now=early(course))
    lesson = Lesson.objects.get(offering=course, date=today())

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    _login(page, live_server.url, world.teacher_a.username, lands="**/school/")
    page.goto(live_server.url + "/afterschool/lessons/")
    page.get_by_test_id("lessons").locator("li", has_text="（今天）").get_by_role(
        "link", name="创意美术"
    ).click()
    page.wait_for_url(f"**/afterschool/lessons/{lesson.pk}/")
    page.get_by_role("button", name="教师签到").click()
    assert "已签到。" in html(page)

    roll = page.get_by_test_id("roll")
    absent = roll.locator("fieldset", has_text="甲同学")
    present = roll.locator("fieldset", has_text=other_child.name)
    assert absent.get_by_label("出勤").is_checked() and present.get_by_label("出勤").is_checked()
    assert _fits_the_phone(page)
    absent.get_by_label("缺勤").check()
    roll.get_by_role("button", name="提交点名").click()

    assert "点名已提交：2 人，缺勤 1 人。" in html(page)
    assert page.get_by_test_id("lesson-status").inner_text() == "已上课"
    assert _fits_the_phone(page)
    context.close()
    marks = dict(Attendance.objects.filter(lesson=lesson).values_list("child_id", "mark"))
    assert marks == {world.child_a.pk: "absent", other_child.pk: "present"}

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    _login(page, live_server.url, world.parent_a.username)
    page.goto(live_server.url + "/afterschool/attendance/")
    day = today()
    shown = f"{day.year}年{day.month}月{day.day}日"  # the zh-hans date format
    row = page.get_by_test_id("attendance").locator("li", has_text=shown)
    assert row.count() == 1
    assert "甲同学" in row.inner_text() and "创意美术" in row.inner_text()
    assert row.locator("strong").inner_text() == "缺勤"
    assert other_child.name not in html(page)  # another family's child stays private
    assert _fits_the_phone(page)
    context.close()
