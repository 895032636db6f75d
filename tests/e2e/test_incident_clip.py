"""The incident panel plays the event clip: 'clip arriving' first, then an H.264 video that advances.

The demo runs the vtest camera; its edge cuts a clip per event (5 s before, 10 s after) and sends it
over the in-memory bus to the hub, which links it to the event. Debian's chromium plays H.264.
"""

import time

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

VTEST_CAMERA = "icn-harbour-plaza-01"


def test_the_panel_shows_clip_arriving_then_plays_the_clip(browser: Browser, demo_server: DemoServer) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(demo_server.base_url + "/")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(demo_server.password)
    page.get_by_test_id("login-submit").click()
    rows = page.locator(f'[data-testid="incident-row"]:has-text("{VTEST_CAMERA}")')
    expect(rows.first).to_be_visible(timeout=60000)
    opened_at = time.monotonic()
    rows.last.click()  # the oldest vtest incident: its clip is the first one cut
    panel = page.get_by_test_id("incident-panel")
    expect(panel).to_be_visible()
    video = panel.get_by_test_id("panel-clip")
    if not video.is_visible():
        expect(panel.get_by_test_id("clip-arriving")).to_be_visible()
    expect(video).to_be_visible(timeout=60000)
    page.wait_for_function(
        "(v) => v.readyState >= 2 && v.videoWidth > 0", arg=video.element_handle(), timeout=15000
    )
    first = float(page.evaluate("(v) => v.currentTime", video.element_handle()))
    page.wait_for_function(
        "([v, t]) => v.currentTime > t + 1.0 && !v.paused", arg=[video.element_handle(), first], timeout=15000
    )
    assert page.evaluate("(v) => v.duration", video.element_handle()) > 5.0
    assert time.monotonic() - opened_at < 120
    context.close()
