"""消课 from the institution's desk to the parent's phone (issue 16, parts 4 and 6): the desk
claims two lessons for a buyer; the parent, on a 390-px phone, sees them on 我的校外培训,
confirms one (money released) and disputes the other with a reason (the release held)."""

import datetime as dt

import pytest

from institutions import escrow
from institutions.claim_models import LessonClaim
from tests.e2e.pages import html
from tests.factories import PASSWORD, InstitutionStaffFactory
from tests.institutions.claim_helpers import DAY, paid_purchase
from tests.institutions.conftest import escrow_institution

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_the_desk_claims_and_the_parent_confirms_and_disputes_on_a_phone(world, live_server, page):
    base = live_server.url
    inst = escrow_institution(district=world.school_a.district)
    InstitutionStaffFactory(institution=inst, role="desk", user__username="qiantai")
    p = paid_purchase(inst, world.parent_a.parent, amount="1000.00", lessons=10)

    # 1. the desk claims two lessons for the buyer
    login(page, base, "qiantai")
    for day in (DAY, DAY + dt.timedelta(days=1)):
        page.goto(f"{base}/training/claims/")
        page.get_by_test_id(f"claim-course-{p.course_id}").click()
        page.get_by_label("上课日期").fill(day.isoformat())
        page.get_by_label("开始时间").fill("18:00")
        page.get_by_label("结束时间").fill("18:45")
        page.get_by_test_id(f"buyer-{p.pk}").check()
        page.get_by_role("button", name="登记消课").click()
        page.wait_for_load_state()
        assert "等待家长确认" in html(page)
    first, second = LessonClaim.objects.order_by("date")
    page.get_by_role("button", name="退出登录").click()

    # 2. the parent, on the phone
    login(page, base, "parent_a")
    page.goto(f"{base}/training/my/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert "有 2 节课待您确认" in html(page)
    page.get_by_test_id(f"answer-{p.pk}").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id(f"confirm-{first.pk}").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("released").inner_text().startswith("100.00")
    page.get_by_test_id(f"dispute-{second.pk}").click()  # no reason: refused, named
    assert "请填写异议事由" in page.get_by_test_id("error-reason").inner_text()
    page.get_by_label("异议事由").fill("那天孩子生病没去")
    page.get_by_test_id(f"dispute-{second.pk}").click()
    page.wait_for_load_state()
    assert "已提出异议" in html(page)
    p.refresh_from_db()
    assert p.dispute_open and p.lessons_confirmed == 1
    assert escrow.purchase_sums(p).released == 100
