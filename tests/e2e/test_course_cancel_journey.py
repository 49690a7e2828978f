"""Issue 13, item 5: a principal cancels a course that two children attend (one has paid,
one has not); each parent sees the notice, the refund or the cancelled bill, and the
course gone from the menu; the fee ledger balances."""

import pytest

from afterschool import enrolment, fees
from afterschool.models import Bill, FeeEntry, FeeTransaction, Offering
from portal import ledger
from tests.afterschool.fees_helpers import paid_course
from tests.afterschool.helpers import family
from tests.afterschool.test_fees import pay
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


def test_a_principal_cancels_a_course_and_each_parent_sees_it(world, live_server, browser):
    # lessons from next week: the journey runs in real time (2 lessons × 20 yuan, per term)
    course = paid_course(world.school_a, weeks=(1, 2))
    ((other_parent, other_child),) = family(world.class_a, 1, prefix="cj")
    paid_enrolment = enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk
    )
    enrolment.enrol(user=other_parent, child_id=other_child.pk, offering_id=course.pk)
    paid_bill = Bill.objects.get(enrolment=paid_enrolment)
    pay(paid_bill)
    open_bill = Bill.objects.get(child=other_child)
    assert (paid_bill.status, open_bill.status, open_bill.amount) == ("paid", "open", 40)

    def new_page():
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        return context, context.new_page()

    # the principal cancels on the course page, with a reason
    context, page = new_page()
    _login(page, live_server.url, world.principal_a.username, lands="**/school/")
    page.goto(f"{live_server.url}/afterschool/offerings/{course.pk}/")
    form = page.get_by_test_id("cancel-course")
    form.get_by_role("button", name="取消课程").click()  # no reason: refused, nothing done
    assert "取消课程必须说明原因" in html(page)
    assert Offering.objects.get(pk=course.pk).status == "published"
    page.get_by_test_id("cancel-course").get_by_label("取消原因").fill("授课教师离职")
    page.get_by_test_id("cancel-course").get_by_role("button", name="取消课程").click()
    page.wait_for_url(f"**/afterschool/offerings/{course.pk}/")
    assert "课程已取消：授课教师离职" in page.get_by_test_id("cancelled").inner_text()
    assert _fits_the_phone(page)
    context.close()

    # each parent: the notice, the refund or the cancelled bill, the course off the menu
    for user, child, says, bill_words in (
        (world.parent_a, world.child_a, "已缴费用按学校规则退还 40.00 元", "已缴费"),
        (other_parent, other_child, "未缴账单已作废", "已作废"),
    ):
        context, page = new_page()
        _login(page, live_server.url, user.username)
        page.get_by_role("link", name="通知").first.click()
        page.wait_for_url("**/inbox/")
        notices = page.get_by_test_id("inbox").inner_text()
        assert "课后服务课程“创意美术”已取消：授课教师离职" in notices
        assert f"{child.name}：{says}" in notices
        assert notices.count("“创意美术”已取消") == 1  # told once
        page.goto(live_server.url + "/afterschool/bills/")
        bill = Bill.objects.filter(child=child).order_by("pk").first()
        assert bill_words in page.get_by_test_id(f"bill-{bill.pk}").inner_text()
        page.goto(live_server.url + "/afterschool/menu/")
        assert "创意美术" not in page.get_by_test_id("menu").inner_text()
        history = page.get_by_test_id("history").inner_text()
        assert "创意美术" in history and "课程已取消：授课教师离职" in history
        assert _fits_the_phone(page)
        context.close()

    paid_bill.refresh_from_db()
    assert fees.held(paid_bill) == 0
    assert ledger.balance(FeeEntry, paid_bill.account, transaction__kind="refund") == 40
    assert not Bill.objects.filter(child=other_child).exclude(status="cancelled").exists()
    assert ledger.ledger_total(FeeEntry) == 0
    assert not ledger.unbalanced_transactions(FeeTransaction).exists()
