"""A parent sees why a course cannot be chosen, switches the child to another course, asks for
leave; the teacher sees the leave on the roll-call and submits it; school staff move a lesson
and the parent sees the new time. All on a phone."""

import datetime as dt

import pytest
from django.utils import timezone

from afterschool import enrolment
from afterschool.lessons import is_open
from afterschool.models import Attendance, Enrolment, LeaveRequest, Lesson, Offering
from tests.afterschool.fees_helpers import early, paid_course, today
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


def _phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    return context, context.new_page()


def _started_a_while_ago():
    """A lesson time of today that has already started in real time (the roll-call opens
    at the start): from ten minutes ago (not before 00:00) for an hour (not past 23:59)."""
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - dt.timedelta(minutes=10), midnight)
    end = min(start + dt.timedelta(hours=1), now.replace(hour=23, minute=59, second=0))
    return start.time().replace(second=0, microsecond=0), end.time().replace(microsecond=0)


def _next_open_day(school, after):
    """The first day after ``after`` the school runs its service (not a weekend or holiday)."""
    for n in range(1, 15):
        day = after + dt.timedelta(days=n)
        if is_open(school, day):
            return day
    pytest.fail(f"no open school day within two weeks after {after} (calendar or term?)")


def test_a_parent_switches_asks_leave_and_sees_a_moved_lesson(world, live_server, browser):
    base = live_server.url
    # three courses of one term on today's weekday, at times that do not clash; the
    # lessons of the first two start next week, so the parent may still switch in real time
    weiqi = paid_course(world.school_a, fee="0", name="围棋", weeks=(1, 2))
    term = weiqi.plan.term
    shufa = paid_course(
        world.school_a,
        fee="0",
        name="书法",
        term=term,
        weeks=(1, 2),
        start=dt.time(17, 0),
        end=dt.time(18, 0),
    )
    lanqiu = paid_course(
        world.school_a,
        fee="0",
        name="篮球",
        term=term,
        weeks=(1, 2),
        start=dt.time(18, 10),
        end=dt.time(19, 10),
    )
    Offering.objects.filter(pk=lanqiu.pk).update(grades=[5, 6])
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=weiqi.pk, now=early(weiqi)
    )

    # the parent: why 篮球 cannot be chosen, then a switch from 围棋 to 书法
    context, page = _phone(browser)
    _login(page, base, world.parent_a.username)
    page.get_by_role("link", name="课后服务选课").click()
    page.wait_for_url("**/afterschool/menu/")
    menu = page.get_by_test_id("menu")
    assert (
        "面向5年级、6年级"
        in menu.locator("li", has_text="篮球").get_by_test_id("why-not").inner_text()
    )
    assert _fits_the_phone(page)
    switch = menu.locator("li", has_text="围棋").get_by_test_id("switch")
    switch.locator("select[name=to]").select_option(str(shufa.pk))
    switch.get_by_role("button", name="换课").click()
    page.wait_for_url("**/afterschool/menu/")
    assert "甲同学已换到“书法”" in html(page)
    assert _fits_the_phone(page)
    assert set(
        Enrolment.objects.filter(child=world.child_a).values_list("offering__name", "status")
    ) == {("围棋", "withdrawn"), ("书法", "enrolled")}

    # leave from the next lesson of 书法
    first, second = Lesson.objects.filter(offering=shufa).order_by("date")
    page.goto(base + "/parent/")
    page.get_by_role("link", name="课表与请假").click()
    page.wait_for_url("**/afterschool/my-lessons/")
    row = page.get_by_test_id(f"lesson-{first.pk}-{world.child_a.pk}")
    assert "书法" in row.inner_text() and f"{first.date:%Y-%m-%d} 17:00" in row.inner_text()
    assert "围棋" not in page.get_by_test_id("my-lessons").inner_text()
    row.get_by_label("请假原因").fill("发烧看病")
    row.get_by_role("button", name="请假", exact=True).click()
    page.wait_for_url("**/afterschool/my-lessons/")
    assert "请假申请已提交" in html(page)
    assert "发烧看病" in page.get_by_test_id(f"lesson-{first.pk}-{world.child_a.pk}").inner_text()
    assert _fits_the_phone(page)
    context.close()
    leave = LeaveRequest.objects.get(lesson=first, child=world.child_a)

    # the teacher approves the leave before the lesson starts ...
    context, page = _phone(browser)
    _login(page, base, world.teacher_a.username, lands="**/school/")
    page.goto(base + f"/afterschool/lessons/{first.pk}/")
    roster = page.get_by_test_id("roster").locator("li", has_text="甲同学")
    assert "发烧看病" in roster.inner_text()
    assert _fits_the_phone(page)
    roster.get_by_role("button", name="批准", exact=True).click()
    assert "已处理请假申请" in html(page)
    leave.refresh_from_db()
    assert leave.status == LeaveRequest.Status.APPROVED

    # ... and, once it has started (its time set to a while ago), takes the roll-call
    start, end = _started_a_while_ago()
    Lesson.objects.filter(pk=first.pk).update(date=today(), start=start, end=end)
    page.reload()
    roll = page.get_by_test_id("roll")
    child = roll.locator("fieldset", has_text="甲同学")
    assert child.get_by_test_id("leave-tag").inner_text() == "已请假"
    assert child.get_by_label("请假", exact=True).is_checked()
    assert _fits_the_phone(page)
    roll.get_by_role("button", name="提交点名").click()
    assert "点名已提交" in html(page)
    assert page.get_by_test_id("lesson-status").inner_text() == "已上课"
    assert _fits_the_phone(page)
    context.close()
    assert Attendance.objects.get(lesson=first, child=world.child_a).mark == "leave"

    # school staff move the other lesson of 书法 to the next day the school is open
    day = _next_open_day(world.school_a, second.date)
    context, page = _phone(browser)
    _login(page, base, world.principal_a.username, lands="**/school/")
    page.goto(base + f"/afterschool/lessons/{second.pk}/")
    move = page.get_by_test_id("move")
    move.get_by_label("日期", exact=True).fill(f"{day:%Y-%m-%d}")
    move.get_by_label("开始", exact=True).fill("16:40")
    move.get_by_label("结束", exact=True).fill("17:40")
    move.get_by_label("调课原因").fill("场地维修")
    assert _fits_the_phone(page)
    move.get_by_role("button", name="调课并通知家长").click()
    assert "已调课" in html(page)
    assert f"{day:%Y-%m-%d} 16:40" in page.get_by_test_id("when").inner_text()
    assert "场地维修" in page.get_by_test_id("moves").inner_text()
    assert _fits_the_phone(page)
    context.close()
    second.refresh_from_db()
    assert (second.date, second.start, second.end) == (day, dt.time(16, 40), dt.time(17, 40))

    # the parent sees the new time, and a notice of the move on their home page
    context, page = _phone(browser)
    _login(page, base, world.parent_a.username)
    notices = page.get_by_test_id("notices").inner_text()
    assert "书法" in notices and f"调到 {day} 16:40" in notices and "场地维修" in notices
    assert _fits_the_phone(page)
    page.get_by_role("link", name="课表与请假").click()
    page.wait_for_url("**/afterschool/my-lessons/")
    row = page.get_by_test_id(f"lesson-{second.pk}-{world.child_a.pk}")
    assert f"{day:%Y-%m-%d} 16:40-17:40" in row.inner_text()
    assert row.locator(".tag", has_text="已调课").count() == 1
    assert _fits_the_phone(page)
    context.close()
