"""A real browser: Playwright for Python driving Debian's chromium (no downloaded build).

`make test` installs chromium with apt-get when it can; where it cannot, these tests are
skipped, except in CI (PORTAL_REQUIRE_BROWSER=true), where a missing browser fails.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"))
# The machine has no network beyond the package registries: keep chromium from calling home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("PORTAL_REQUIRE_BROWSER", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing and PORTAL_REQUIRE_BROWSER=true")
        pytest.skip(f"{CHROMIUM} is not installed (make browser)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # a phone-sized page: the portal is used on phones first
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
