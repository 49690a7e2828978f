import pytest

from tests.e2e.pages import html
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_principal_logs_in_and_sees_their_own_school_only(world, live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="登录工作台").click()
    page.get_by_label("用户名").fill("pa")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    page.wait_for_url("**/school/")
    assert page.get_by_test_id("school-name").inner_text() == "甲小学"
    assert "乙小学" not in html(page)
    page.get_by_role("link", name="三年级1班").click()
    assert "甲同学" in html(page)
    assert "乙同学" not in html(page)

    # typing another school's class into the address bar gets a Chinese 404
    response = page.goto(f"{live_server.url}/school/classes/{world.class_b.pk}/")
    assert response.status == 404
    assert "页面不存在" in html(page)


def test_a_wrong_password_keeps_the_username_and_says_why(world, live_server, page):
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("pa")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码不正确" in html(page)
    assert page.get_by_label("用户名").input_value() == "pa"
