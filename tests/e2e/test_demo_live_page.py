"""The demo from a user's seat: log in with a real browser and watch vtest incidents arrive live."""

import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

VTEST_CAMERA = "icn-harbour-plaza-01"


def _login(page: Page, server: DemoServer, password: str) -> None:
    page.goto(server.base_url + "/")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_wrong_password_is_refused_on_the_page(browser: Browser, demo_server: DemoServer) -> None:
    page = browser.new_page()
    _login(page, demo_server, "not-the-password")
    expect(page.get_by_test_id("login-error")).to_be_visible(timeout=5000)
    expect(page.get_by_test_id("incident-table")).to_be_hidden()
    page.close()


def _newest_seq(page: Page) -> int:
    seqs: list[str] = page.eval_on_selector_all(
        '[data-testid="incident-row"]', "(rows) => rows.map((row) => row.dataset.seq)"
    )
    return max(int(seq) for seq in seqs)


def test_vtest_incidents_arrive_live_within_30_s_of_start(
    browser: Browser, demo_server: DemoServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    _login(page, demo_server, demo_server.password)

    vtest_rows = page.locator(f'[data-testid="incident-row"]:has-text("{VTEST_CAMERA}")')
    deadline_ms = max(1000, int((demo_server.started_at + 30.0 - time.monotonic()) * 1000))
    expect(vtest_rows.first).to_be_visible(timeout=deadline_ms)
    seen_at = time.monotonic() - demo_server.started_at
    assert seen_at <= 30.0, f"first vtest incident shown {seen_at:.1f} s after start"
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")

    # Live, not reloaded: mark the document, then wait for a change to arrive over the WebSocket:
    # a new incident, or (fusion) a new event joining one, which gives it a higher seq.
    page.evaluate("() => { window.__hwarangMarker = 42; }")
    newest = _newest_seq(page)
    page.wait_for_function(
        """(seq) => [...document.querySelectorAll('[data-testid="incident-row"]')]
            .some((row) => Number(row.dataset.seq) > seq)""",
        arg=newest,
        timeout=20000,
    )
    assert page.evaluate("() => window.__hwarangMarker") == 42, "the page was reloaded"
    assert _newest_seq(page) > newest
    # The count and the rows are read in one evaluation, and waited for until they agree: an update
    # arriving between two separate reads must not fail the test.
    page.wait_for_function(
        """() => {
            const count = document.querySelector('[data-testid="incident-count"]');
            const rows = document.querySelectorAll('[data-testid="incident-row"]').length;
            return count !== null && Number(count.textContent) === rows;
        }""",
        timeout=10000,
    )

    thumb = vtest_rows.first.get_by_test_id("incident-thumb")
    expect(thumb).to_be_visible(timeout=5000)
    page.wait_for_function(
        "(el) => el.complete && el.naturalWidth > 0", arg=thumb.element_handle(), timeout=5000
    )
    page.screenshot(path=str(artifacts / "demo-live-incidents.png"), full_page=False)

    host = urlparse(demo_server.base_url).netloc
    external = [
        url for url in requests if not url.startswith(("data:", "blob:")) and urlparse(url).netloc != host
    ]
    assert external == [], f"the page requested outside the demo: {external}"
    context.close()


def test_incident_arrives_in_a_second_session_without_reload(
    browser: Browser, demo_server: DemoServer
) -> None:
    first, second = browser.new_page(), browser.new_page()
    for page in (first, second):
        _login(page, demo_server, demo_server.password)
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live", timeout=10000)
    newest = _newest_seq(first) if first.get_by_test_id("incident-row").count() else 0
    # The next change (a new incident, or an event joining one) reaches both screens; the same
    # incident may change again meanwhile, so the second screen shows that seq or a later one.
    changed = first.wait_for_function(
        """(seq) => [...document.querySelectorAll('[data-testid="incident-row"]')]
            .map((row) => [row.dataset.incidentId, Number(row.dataset.seq)]).find(([, s]) => s > seq)""",
        arg=newest,
        timeout=20000,
    ).json_value()
    incident_id, seq = changed
    second.wait_for_function(
        """([id, seq]) => [...document.querySelectorAll('[data-testid="incident-row"]')]
            .some((row) => row.dataset.incidentId === id && Number(row.dataset.seq) >= seq)""",
        arg=[incident_id, seq],
        timeout=10000,
    )
    first.close()
    second.close()
