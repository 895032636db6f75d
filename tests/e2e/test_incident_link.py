"""The incident link CAP alerts carry (``/?incident=<id>``) opens that incident after login; the open
incident stays in the address; an id the user cannot see gets a notice, not an empty panel."""

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.cop_support import PLACES, inject_event
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e


def _login_at(page: Page, url: str, password: str) -> None:
    page.goto(url)
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_a_linked_incident_opens_and_stays_in_the_address(
    browser: Browser, demo_server: DemoServer, admin_token: str
) -> None:
    incident_id = str(inject_event(demo_server.base_url, admin_token, PLACES[2], seed=7301))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    _login_at(page, f"{demo_server.base_url}/?incident={incident_id}", demo_server.password)
    expect(page.get_by_test_id("panel-title")).to_be_visible(timeout=20000)
    assert page.evaluate("() => new URLSearchParams(location.search).get('incident')") == incident_id
    assert page.evaluate(
        "(id) => document.querySelector('#panel:not([hidden])') !== null && location.search.includes(id)",
        incident_id,
    )
    page.keyboard.press("Escape")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('incident')", timeout=5000)
    context.close()


def test_a_link_to_an_unknown_incident_says_so(browser: Browser, demo_server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    _login_at(page, f"{demo_server.base_url}/?incident={uuid.uuid4()}", demo_server.password)
    expect(page.get_by_test_id("notice")).to_contain_text("링크의 상황을 찾을 수 없거나", timeout=20000)
    expect(page.locator("#panel")).to_be_hidden()
    assert page.evaluate("() => new URLSearchParams(location.search).has('incident')") is False
    context.close()
