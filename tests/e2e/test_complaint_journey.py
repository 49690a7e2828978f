"""A complaint from the phone to the reply (issue 15): a parent files it on a 390-px phone
without an account and keeps the code; the homework line accepts it and assigns it to the
school; the principal answers with a photo; the staff close it with a reply; the parent reads
the reply with the code."""

import pytest
from django.core.cache import cache

from institutions.complaint_models import Complaint, ComplaintFile
from tests.e2e.pages import html
from tests.factories import PASSWORD
from tests.institutions.complaint_helpers import PNG, next_year_known

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    next_year_known()


def login(page, base, username):
    page.goto(base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def logout(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()


def test_a_parent_follows_a_complaint_to_its_reply_with_the_code(
    world, live_server, page, tmp_path
):
    base = live_server.url
    # 1. the parent, not logged in, on a phone
    page.goto(base + "/complaints/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="提交举报").click()  # empty: each field named, in Chinese
    assert "请选择举报类别。" in html(page)
    assert "请填写举报内容（发生了什么）。" in html(page)
    page.get_by_label("举报类别").select_option(label="学校作业超量")
    page.get_by_label("涉及学校（学校类举报必选）").select_option(
        label=f"甲小学（{world.school_a.district.name}）"
    )
    page.get_by_label("举报内容（发生了什么）").fill("三年级每天书面作业超过两小时。")
    page.get_by_label("联系电话（选填）").fill("13812345678")
    page.get_by_role("button", name="提交举报").click()
    code = page.get_by_test_id("tracking-code").inner_text().strip()
    assert len(code.replace("-", "")) == 12
    complaint = Complaint.objects.get()
    assert complaint.line == "homework"

    # 2. the homework line accepts it and assigns it to the school
    login(page, base, "bureau")
    page.goto(f"{base}/complaints/staff/")
    page.get_by_role("link", name=f"#{complaint.pk}").click()
    assert "138****5678" in html(page) and "13812345678" not in html(page)
    page.get_by_role("button", name="受理", exact=True).click()
    assert page.get_by_test_id("status").inner_text() == "已受理"
    page.get_by_label("交办学校").select_option(label="甲小学")
    page.get_by_label("交办说明").fill("请核查三年级作业量。")
    page.get_by_role("button", name="交办").click()
    assert page.get_by_test_id("status").inner_text() == "已交办"
    logout(page)

    # 3. the principal answers with a photo; never sees the phone
    login(page, base, "pa")
    page.goto(f"{base}/complaints/school/")
    page.get_by_role("link", name=f"举报 #{complaint.pk}（学校作业超量）").click()
    assert "138****5678" not in html(page) and "13812345678" not in html(page)
    photo = tmp_path / "整改.png"
    photo.write_bytes(PNG)
    page.get_by_label("办理情况").fill("已约谈年级组，作业减至一小时内。")
    page.get_by_label("佐证材料（PDF、JPG、PNG，可多选）").set_input_files(str(photo))
    page.get_by_role("button", name="反馈办理情况").click()
    assert page.get_by_test_id("status").inner_text() == "已反馈办理情况"
    assert ComplaintFile.objects.filter(from_complainant=False, kind="png").count() == 1
    logout(page)

    # 4. the staff close it with a reply to the complainant
    login(page, base, "bureau")
    page.goto(f"{base}/complaints/staff/{complaint.pk}/")
    page.get_by_label("答复举报人（举报人凭查询码可见）").fill("经核查属实，已督促学校整改。")
    page.get_by_role("button", name="办结并答复").click()
    assert page.get_by_test_id("status").inner_text() == "已办结"
    logout(page)

    # 5. the parent reads the reply with the code (typed in lower case, without dashes)
    page.goto(base + "/complaints/track/")
    page.get_by_label("查询码").fill(code.replace("-", "").lower())
    page.get_by_role("button", name="查询").click()
    assert page.get_by_test_id("track-status").inner_text() == "已办结"
    assert page.get_by_test_id("track-reply").inner_text() == "经核查属实，已督促学校整改。"
    assert "13812345678" not in html(page) and "三年级每天" not in html(page)
