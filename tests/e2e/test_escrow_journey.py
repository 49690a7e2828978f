"""Issue 16, the escrow from sale to refund in a real browser: an institution sells a
20-lesson course to a parent; the parent accepts and pays on a 390-px phone (the sandbox
gateway); the institution claims two lessons; the parent confirms one and disputes the
other; the release pays only the confirmed one; the parent asks for the refund of the rest;
the institution's 财务 agrees; the ledger and the parent's pages agree to the fen.

1333.33 yuan for 20 lessons: one lesson is 66.67 (66.6665 rounded half up), two 133.33, so
the refund of the 18 lessons not consumed is 1200.00 and the disputed lesson's 66.66 stays
held in the escrow until the bureau settles the dispute."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from institutions import escrow
from institutions.claim_models import LessonClaim
from institutions.escrow_models import EscrowEntry, EscrowTransaction, Purchase
from institutions.refund_models import RefundRequest
from portal import ledger
from tests.factories import PASSWORD
from tests.institutions.sale_helpers import ensure_template, sale_institution, seller_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AMOUNT = Decimal("1333.33")


def _login(page, base, username, lands=re.compile(r".*")):
    page.context.clear_cookies()
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lands)


def _fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 390 + 2


def test_sale_pay_claim_confirm_dispute_release_and_refund_agree_to_the_fen(
    world, live_server, page
):
    base = live_server.url
    today = timezone.localdate()
    starts, ends = today - dt.timedelta(days=14), today + dt.timedelta(days=60)
    ensure_template()
    inst = sale_institution(name="启航艺术培训学校")
    course = inst.courses.get()
    desk = seller_of(inst, role="desk", username="desk_journey")
    finance = seller_of(inst, role="finance", username="finance_journey")

    # 1. the institution's desk sells 20 lessons to parent_a (by the phone number)
    _login(page, base, desk.username)
    page.goto(base + "/sales/new/")
    page.get_by_label("课程").select_option(label="少儿书法")
    page.get_by_label("家长姓名").fill("甲家长")
    page.get_by_label("家长手机号").fill("13812345678")
    page.get_by_label("课时数").fill("20")
    page.get_by_label("金额（元）").fill(str(AMOUNT))
    page.get_by_label("服务开始").fill(starts.isoformat())
    page.get_by_label("服务结束").fill(ends.isoformat())
    page.get_by_role("button", name="登记并发送给家长确认").click()
    page.wait_for_url(re.compile(r"/sales/\d+/$"))
    sale = Purchase.objects.get()
    assert sale.parent.user == world.parent_a

    # 2. the parent accepts the contract and pays on the phone
    _login(page, base, world.parent_a.username, lands="**/parent/")
    page.goto(f"{base}/sales/offers/{sale.pk}/")
    assert _fits_the_phone(page)
    page.get_by_test_id("agree").check()
    page.get_by_test_id("accept").click()
    page.wait_for_url(f"**/sales/offers/{sale.pk}/pay/")
    page.get_by_test_id("pay-online").click()
    page.wait_for_url(f"**/sales/offers/{sale.pk}/sandbox/")
    assert page.get_by_test_id("amount").inner_text() == "1333.33 元"
    page.get_by_test_id("sandbox-pay").click()
    page.wait_for_url(f"**/sales/offers/{sale.pk}/pay/")
    assert page.get_by_test_id("status").inner_text() == "履行中"
    assert escrow.purchase_sums(sale).paid == AMOUNT

    # 3. the desk claims two lessons a week ago
    _login(page, base, desk.username)
    for day in (today - dt.timedelta(days=7), today - dt.timedelta(days=6)):
        page.goto(f"{base}/training/courses/{course.pk}/claim/")
        page.get_by_label("上课日期").fill(day.isoformat())
        page.get_by_label("开始时间").fill("18:00")
        page.get_by_label("结束时间").fill("18:45")
        page.get_by_test_id(f"buyer-{sale.pk}").check()
        page.get_by_role("button", name="登记消课").click()
        page.wait_for_url("**/training/claims/")
    first, second = LessonClaim.objects.filter(purchase=sale).order_by("date")
    sale.refresh_from_db()
    assert sale.lessons_consumed == 2

    # 4. the parent confirms the first lesson and disputes the second
    _login(page, base, world.parent_a.username, lands="**/parent/")
    page.goto(f"{base}/training/purchases/{sale.pk}/")
    page.get_by_test_id(f"confirm-{first.pk}").click()
    page.wait_for_url(f"**/training/purchases/{sale.pk}/")
    page.locator(f"#reason-{second.pk}").fill("当天孩子请假，没有上课")
    page.get_by_test_id(f"dispute-{second.pk}").click()
    page.wait_for_url(f"**/training/purchases/{sale.pk}/")
    # the release paid the confirmed lesson only; the dispute holds the rest
    assert page.get_by_test_id("released").inner_text() == "66.67 元"
    assert escrow.purchase_sums(sale).released == Decimal("66.67")
    assert _fits_the_phone(page)

    # 5. the parent asks for the refund of what was not consumed
    page.goto(base + "/refunds/mine/")
    page.get_by_role("link", name="申请退还未消课费用").click()
    page.wait_for_url(f"**/refunds/ask/{sale.pk}/")
    assert page.get_by_test_id("unconsumed-value").inner_text() == "1200.00"
    assert _fits_the_phone(page)
    page.get_by_label("退费原因").fill("孩子课业安排变化，不再参加")
    page.get_by_role("button", name="提交退费申请").click()
    page.wait_for_url(re.compile(r"/refunds/mine/\d+/$"))
    assert page.get_by_test_id("refund-status").inner_text() == "待机构答复"
    request = RefundRequest.objects.get()

    # 6. the institution's 财务 agrees: paid at once
    _login(page, base, finance.username)
    page.goto(base + "/refunds/org/")
    page.get_by_role("link", name=str(request)).click()
    page.wait_for_url(f"**/refunds/org/{request.pk}/")
    page.get_by_label("同意退还未消课费用").check()
    page.get_by_role("button", name="提交答复").click()
    page.wait_for_url(f"**/refunds/org/{request.pk}/")
    assert page.get_by_test_id("refund-status").inner_text() == "已退费"

    # 7. the ledger and the parent's pages agree to the fen
    sums = escrow.purchase_sums(sale)
    assert (sums.paid, sums.released, sums.refunded, sums.held) == (
        AMOUNT, Decimal("66.67"), Decimal("1200.00"), Decimal("66.66"),
    )  # fmt: skip
    _login(page, base, world.parent_a.username, lands="**/parent/")
    page.goto(f"{base}/refunds/mine/{request.pk}/")
    assert page.get_by_test_id("refund-status").inner_text() == "已退费"
    assert page.get_by_test_id("refund-amount").inner_text() == "1200.00"
    assert page.get_by_test_id("sums").inner_text() == "1333.33 / 66.67 / 1200.00 / 66.66"
    assert _fits_the_phone(page)
    page.goto(f"{base}/training/purchases/{sale.pk}/")
    assert page.get_by_test_id("released").inner_text() == "66.67 元"
    assert "1200.00 元" in page.get_by_test_id("figures").inner_text()
    assert list(ledger.unbalanced_transactions(EscrowTransaction)) == []
    assert ledger.ledger_total(EscrowEntry) == Decimal("0.00")
