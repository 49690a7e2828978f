import pytest

from cases.services import document_import
from tests.cases.conftest import seed_text
from tests.e2e.pages import html

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_visitor_on_a_phone_searches_cases_and_opens_one(live_server, page):
    document_import(text=seed_text("guangzhou-batch2.txt"), filename="guangzhou-batch2.txt")
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="典型案例").click()
    page.get_by_label("关键词").fill("午休")
    page.get_by_role("button", name="搜索").click()

    results = page.get_by_test_id("results")
    first = results.locator("li").first
    assert "午休" in first.locator(".result-title").inner_text()
    assert first.locator("mark").first.inner_text() == "午休"
    first.locator(".result-title").click()

    assert "广州市第二批" in html(page)  # the source document
    page.get_by_test_id("related").locator("a").first.click()
    assert page.url.startswith(live_server.url + "/cases/")
    # nothing of the page overflows a phone's width
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
