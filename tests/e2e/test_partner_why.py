"""A partner with nothing visible is told why, in their own terms (issue #15, item 3)."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e


def test_fire_liaison_with_an_empty_list_sees_why(
    browser: Browser, demo_server: DemoServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(demo_server.base_url + "/")
    # the demo's fire liaison for Incheon (sido 28): no severity rule shares the demo's incidents
    # with fire, and no condition is declared; demo users share the admin's password
    page.get_by_test_id("login-username").fill("fire-28-liaison")
    page.get_by_test_id("login-password").fill(demo_server.password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live", timeout=15000)
    expect(page.locator("#empty")).to_be_visible(timeout=10000)
    why = page.get_by_test_id("visibility-why")
    expect(why).to_be_visible(timeout=10000)
    expect(why).to_contain_text("no condition is in force for your area (28)")
    expect(why).to_contain_text("no incident is shared with your agency right now")
    page.screenshot(path=str(artifacts / "partner-why.png"))
    context.close()
