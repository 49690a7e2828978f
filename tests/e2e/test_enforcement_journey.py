"""An inspector on a phone records a visit with a failed item; the bureau holds a 约谈 and
orders 整改; the deadline passes and the institution is grey on its public page, with the
reason; the 通报 lists it."""

import datetime as dt

import pytest
from django.utils import timezone

from institutions.enforcement_models import Sanction
from tests.e2e.pages import html
from tests.institutions.helpers import make_institution, training_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Inspect-2026-phone!"


def _login(page, live_server, user):
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def test_a_failed_visit_an_interview_and_an_overdue_rectification_grey_the_institution(
    world, live_server, page, browser
):
    staff = training_staff("inspector")
    staff.set_password(PASSWORD)
    staff.save()
    inst = make_institution(staff, world.school_a.district, name="启航数学培训学校")
    today = timezone.localdate()
    _login(page, live_server, staff)

    # the visit, on a phone: one item fails, with its note
    page.goto(f"{live_server.url}/enforcement/staff/institutions/{inst.pk}/visit/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for n in range(1, 7):
        item = page.get_by_test_id(f"item-{n}")
        item.get_by_label("不合格" if n == 3 else "合格", exact=True).check()
    page.get_by_test_id("item-3").get_by_label("说明").fill("周五 21:00 仍在上课")
    page.get_by_role("button", name="保存检查记录").click()
    assert "检查记录已保存" in html(page)
    assert "培训时间" in page.get_by_test_id("findings").inner_text()

    # the 约谈, its deadline already past (held three weeks ago)
    page.get_by_role("link", name="登记约谈").click()
    held = today - dt.timedelta(days=21)
    page.get_by_label("约谈日期").fill(held.isoformat())
    page.get_by_label("参加人员").fill("法定代表人、教学负责人")
    page.get_by_label("存在问题").fill("超时培训")
    page.get_by_label("整改期限").fill((held - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="保存").click()
    assert "不能早于约谈日期" in html(page)  # refused, what was typed kept
    assert page.get_by_label("参加人员").input_value() == "法定代表人、教学负责人"
    deadline = today - dt.timedelta(days=1)
    page.get_by_label("整改期限").fill(deadline.isoformat())
    page.get_by_role("button", name="保存").click()
    assert "约谈记录已保存" in html(page)

    # 责令整改 from the 约谈, deadline yesterday
    page.get_by_role("link", name="作出处理决定").click()
    page.get_by_label("处理类型").select_option(label="责令整改")
    page.get_by_label("决定日期").fill(held.isoformat())
    page.get_by_label("违规事实").fill("周五 21:00 后仍组织学科类培训")
    page.get_by_label("整改期限（责令整改必填）").fill(deadline.isoformat())
    page.get_by_label("来源：约谈").select_option(index=1)
    page.get_by_role("button", name="保存").click()
    assert "处理决定已保存" in html(page)
    assert Sanction.objects.get().interview_id is not None

    # the public page: grey, and why
    parent = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    public = parent.new_page()
    public.goto(f"{live_server.url}/institutions/{inst.pk}/")
    colour = public.get_by_test_id("colour").inner_text()
    assert "灰名单" in colour and f"整改期限 {deadline.isoformat()}" in colour
    assert "责令整改" in public.get_by_test_id("record").inner_text()

    # the 通报
    page.goto(f"{live_server.url}/enforcement/staff/notices/new/")
    page.get_by_label("通报标题").fill("2026年第12期校外培训查处通报")
    page.get_by_test_id(f"candidate-{inst.pk}").get_by_role("checkbox").check()
    page.get_by_role("button", name="发布").click()
    assert "通报已发布" in html(page)
    public.goto(f"{live_server.url}/enforcement/notices/")
    public.get_by_role("link", name="2026年第12期校外培训查处通报").click()
    entries = public.get_by_test_id("entries").inner_text()
    assert "启航数学培训学校" in entries and "21:00" in entries
    assert "inspector" not in html(public)
    assert public.evaluate("document.documentElement.scrollWidth") <= 390
    parent.close()
