import pytest

from homework.selectors import board_for
from tests.factories import PASSWORD, SchoolClassFactory
from tests.homework.conftest import DAY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _publish(page, subject, minutes, content):
    page.get_by_label("学科").select_option(subject)
    page.get_by_label("作业内容").fill(content)
    page.get_by_label("预计用时（分钟）").fill(str(minutes))
    page.get_by_role("button", name="公示").click()


def test_a_teacher_publishes_until_the_limit_and_a_parent_reads_the_board(world, live_server, page):
    grade4 = SchoolClassFactory(school=world.school_a, grade=4, number=2)
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("ta")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/school/")

    page.goto(f"{live_server.url}/homework/classes/{grade4.pk}/{DAY.isoformat()}/")
    _publish(page, "语文", 20, "背诵《山行》")
    _publish(page, "数学", 20, "练习册第12页")
    _publish(page, "英语", 15, "听读Unit 3")
    assert "合计 55 分钟" in page.get_by_test_id("total").inner_text()

    _publish(page, "科学", 10, "观察记录月相")
    error = page.get_by_role("alert").first.inner_text()
    assert "本班当天已有 55 分钟" in error and "共 65 分钟" in error
    assert page.get_by_label("作业内容").input_value() == "观察记录月相"  # kept
    assert page.get_by_test_id("items").locator("tbody tr").count() == 3

    # a parent on a phone opens the class board from the QR link
    board = board_for(grade4)
    parent = page.context.browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
    phone = parent.new_page()
    phone.goto(f"{live_server.url}/h/{board.token}/?date={DAY.isoformat()}")
    text = phone.get_by_test_id("board").inner_text()
    assert "背诵《山行》" in text and "练习册第12页" in text and "观察记录月相" not in text
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    parent.close()
