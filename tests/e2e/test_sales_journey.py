"""A sale through the escrow in a real browser: the institution's desk records it, the
parent reads the contract on a 390-px phone, accepts and pays on the sandbox gateway."""

import re

import pytest

from institutions.escrow_models import Purchase
from tests.e2e.pages import html
from tests.factories import PASSWORD
from tests.institutions.sale_helpers import END, START, ensure_template, sale_institution, seller_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, base, username, lands):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lands)


def _fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 390 + 2


def test_the_desk_sells_and_the_parent_accepts_and_pays_on_the_phone(world, live_server, page):
    ensure_template()
    inst = sale_institution()
    desk = seller_of(inst, role="desk", username="desk_e2e")
    _login(page, live_server.url, desk.username, lands=re.compile(r".*"))
    page.goto(live_server.url + "/sales/new/")
    page.get_by_label("课程").select_option(label="少儿书法")
    page.get_by_label("家长姓名").fill("甲家长")
    page.get_by_label("家长手机号").fill("13812345678")  # world.parent_a's
    page.get_by_label("课时数").fill("61")
    page.get_by_label("金额（元）").fill("1000.00")
    page.get_by_label("服务开始").fill(START.isoformat())
    page.get_by_label("服务结束").fill(END.isoformat())
    page.get_by_role("button", name="登记并发送给家长确认").click()
    assert "不得超过60课时" in html(page)
    assert page.get_by_label("家长姓名").input_value() == "甲家长"  # kept
    page.get_by_label("课时数").fill("60")
    page.get_by_role("button", name="登记并发送给家长确认").click()
    page.wait_for_url(re.compile(r"/sales/\d+/$"))
    assert "138****5678" in html(page) and "13812345678" not in html(page)
    sale = Purchase.objects.get()
    assert sale.status == Purchase.Status.OFFERED and sale.parent.user == world.parent_a

    page.context.clear_cookies()
    _login(page, live_server.url, world.parent_a.username, lands="**/parent/")
    page.goto(live_server.url + "/sales/mine/")
    page.get_by_role("link", name=re.compile("少儿书法")).click()
    page.wait_for_url(f"**/sales/offers/{sale.pk}/")
    assert inst.name in page.get_by_test_id("contract").inner_text()
    assert _fits_the_phone(page)
    page.get_by_test_id("accept").click()
    assert "请勾选" in html(page)
    page.get_by_test_id("agree").check()
    page.get_by_test_id("accept").click()
    page.wait_for_url(f"**/sales/offers/{sale.pk}/pay/")
    assert page.get_by_test_id("reference").inner_text() == sale.idempotency_key
    assert _fits_the_phone(page)
    page.get_by_test_id("pay-online").click()
    page.wait_for_url(f"**/sales/offers/{sale.pk}/sandbox/")
    assert page.get_by_test_id("amount").inner_text() == "1000.00 元"
    page.get_by_test_id("sandbox-pay").click()
    page.wait_for_url(f"**/sales/offers/{sale.pk}/pay/")
    assert page.get_by_test_id("status").inner_text() == "履行中"
    sale.refresh_from_db()
    assert sale.status == Purchase.Status.ACTIVE and sale.paid_at is not None
