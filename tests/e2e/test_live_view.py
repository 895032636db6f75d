"""The incident panel's live view: the camera's fMP4 through the hub's WebSocket into MSE advances.

The demo's vtest camera encodes its frames into the clip ring; the "live" button makes the hub lease
the camera's stream from the edge (in-memory wire) and relay it to the page. Debian's chromium plays
H.264 in Media Source Extensions. The view is audited (start), and health counts its viewer.
"""

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

VTEST_CAMERA = "icn-harbour-plaza-01"


def test_live_view_plays_the_camera_and_is_counted(browser: Browser, demo_server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(demo_server.base_url + "/")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(demo_server.password)
    page.get_by_test_id("login-submit").click()
    rows = page.locator(f'[data-testid="incident-row"]:has-text("{VTEST_CAMERA}")')
    expect(rows.first).to_be_visible(timeout=60000)
    rows.first.click()
    panel = page.get_by_test_id("incident-panel")
    expect(panel).to_be_visible()
    panel.get_by_test_id("live-button").click()
    video = panel.get_by_test_id("live-video")
    expect(video).to_be_visible(timeout=10000)
    page.wait_for_function(
        "(v) => v.readyState >= 2 && v.videoWidth > 0", arg=video.element_handle(), timeout=20000
    )
    first = float(page.evaluate("(v) => v.currentTime", video.element_handle()))
    page.wait_for_function(
        "([v, t]) => v.currentTime > t + 1.0", arg=[video.element_handle(), first], timeout=20000
    )
    health = page.request.get(demo_server.base_url + "/api/v1/health").json()
    counters = health["extra"]["live_video"][VTEST_CAMERA]
    assert counters["viewers"] == 1 and counters["bytes_sent"] > 0
    context.close()
