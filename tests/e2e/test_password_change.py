"""A user changes their own password from the page, then logs in with it (issue #15, item 4)."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e
USER = "nis-cmd"  # a demo user no other browser test logs in as


def _login(page: Page, server: DemoServer, password: str) -> None:
    page.goto(server.base_url + "/")
    page.get_by_test_id("login-username").fill(USER)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_change_password_from_the_page(browser: Browser, demo_server: DemoServer, artifacts: Path) -> None:
    new = "nis-new-password-2026"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    _login(page, demo_server, demo_server.password)
    page.get_by_test_id("password-button").click()
    dialog = page.get_by_test_id("password-dialog")
    dialog.get_by_test_id("password-current").fill(demo_server.password)
    dialog.get_by_test_id("password-new").fill("short")
    dialog.get_by_test_id("password-again").fill("short")
    dialog.get_by_test_id("password-submit").click()
    expect(dialog.get_by_test_id("password-result")).to_contain_text("at least 10 characters")
    dialog.get_by_test_id("password-new").fill(new)
    dialog.get_by_test_id("password-again").fill(new)
    dialog.get_by_test_id("password-submit").click()
    expect(dialog.get_by_test_id("password-result")).to_have_attribute("data-ok", "true")
    context.close()

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    _login(page, demo_server, new)
    expect(page.get_by_test_id("current-user")).to_have_text(USER, timeout=10000)
    context.close()
