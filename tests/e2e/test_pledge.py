"""A commitment letter (承诺书) signed on a phone (issue 18 part 2): the teacher opens their
letter on a 390-px phone, must tick the box, signs; the principal sees it signed and the
teacher no longer among those who have not signed."""

import datetime as dt

import pytest
from django.utils import timezone

from governance import pledges
from governance.pledge_models import PledgeLetter
from tests.e2e.pages import html
from tests.factories import PASSWORD
from tests.governance.pledge_helpers import TEXT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def logout(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()


def test_a_teacher_signs_on_a_phone_and_the_principal_sees_it(world, live_server, page):
    base = live_server.url
    tpl = pledges.template_save(actor=world.bureau, title="教师承诺书", text=TEXT)
    today = timezone.localdate()
    c = pledges.campaign_issue(
        actor=world.bureau,
        template_id=tpl.pk,
        year=today.year,
        deadline=today + dt.timedelta(days=14),
        school_ids=[world.school_a.pk],
    )
    letter = PledgeLetter.objects.get(campaign=c, staff__user=world.teacher_a)

    # 1. the teacher, on a phone: their letters, the text, a refusal without the tick
    login(page, base, "ta")
    page.goto(base + "/pledges/mine/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name=str(c)).click()
    assert "不得有偿补课" in page.get_by_test_id("pledge-text").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="签署承诺书").click()
    assert (
        "请勾选“我已阅读并承诺遵守”后再签署。" in page.get_by_test_id("error-agreed").inner_text()
    )
    page.get_by_label("我已阅读并承诺遵守").check()
    page.get_by_role("button", name="签署承诺书").click()
    assert "已于" in page.get_by_test_id("signed").inner_text()
    letter.refresh_from_db()
    assert letter.signed_by_id == world.teacher_a.pk
    assert letter.signed_text_sha256 == pledges.text_sha256(TEXT)
    page.get_by_role("link", name="打印签署记录").click()
    assert pledges.text_sha256(TEXT) in html(page)
    logout(page)

    # 2. the principal sees it signed, and who has not
    login(page, base, "pa")
    page.goto(base + "/pledges/")
    page.get_by_role("link", name=str(c)).click()
    assert "已签署" in page.get_by_test_id(f"signed-{letter.pk}").inner_text()
    unsigned = page.get_by_test_id("unsigned").inner_text()
    assert "甲校长" in unsigned and "甲老师" not in unsigned
