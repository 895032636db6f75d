"""The situation room's common operational picture from an operator's seat, in Debian's Chromium.

Every incident here is injected through the API (POST /api/v1/events, as an edge would) into the
running demo, and must reach the map and the list over the live WebSocket.
"""

import contextlib
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, ViewportSize, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.cop_support import ON_MAP, PLACES, inject_event, login, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

LIVE_DEADLINE_S = 2.0
VTEST_CAMERA = "icn-harbour-plaza-01"
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}


def _row(page: Page, incident_id: object) -> Locator:
    return page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser session whose clock is in New York, so KST formatting cannot come from the OS."""
    context = browser.new_context(viewport=VIEWPORT, timezone_id="America/New_York", locale="en-US")
    yield context
    context.close()


def _logged_in(context: BrowserContext, server: DemoServer) -> Page:
    page = context.new_page()
    login(page, server.base_url, server.password)
    wait_map_ready(page)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live", timeout=10000)
    return page


def test_login_map_and_list_show_an_injected_incident_within_2_s_with_no_foreign_request(
    context: BrowserContext, demo_server: DemoServer, admin_token: str, doc_screenshots: Path
) -> None:
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.goto(demo_server.base_url + "/")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    assert page.evaluate("() => document.documentElement.lang") == "ko", "Korean is the default"
    page.screenshot(path=str(doc_screenshots / "cop-login.png"))

    login(page, demo_server.base_url, demo_server.password)
    wait_map_ready(page)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live", timeout=10000)
    counts = (
        "() => ['sido', 'zones', 'cameras'].map((id) => window.hwarangMap.querySourceFeatures(id).length)"
    )
    with contextlib.suppress(PlaywrightTimeoutError):  # the clustering worker may still be tiling
        page.wait_for_function(f"() => ({counts})().every((n) => n > 0)", timeout=10000)
    layers = page.evaluate(counts)
    assert all(count > 0 for count in layers), f"sido, zones, cameras features: {layers}"
    assert page.evaluate("() => sessionStorage.getItem('hwarang.token')"), "token kept in sessionStorage"

    started = time.monotonic()
    incident_id = inject_event(demo_server.base_url, admin_token, PLACES[1], seed=301)
    expect(_row(page, incident_id)).to_be_visible(timeout=int(LIVE_DEADLINE_S * 1000))
    page.wait_for_function(ON_MAP, arg=str(incident_id), timeout=int(LIVE_DEADLINE_S * 1000))
    elapsed = time.monotonic() - started
    assert elapsed <= LIVE_DEADLINE_S, f"injected incident shown after {elapsed:.2f} s"
    count = int(page.get_by_test_id("incident-count").inner_text())
    assert count == page.get_by_test_id("incident-row").count() >= 1
    page.wait_for_timeout(300)  # let the map settle for the picture
    page.screenshot(path=str(doc_screenshots / "cop-map-incidents.png"))

    # The panel of a real camera's incident (the PETS 2009 clip), for the README.
    vtest = page.locator(f'[data-testid="incident-row"]:has-text("{VTEST_CAMERA}")').first
    expect(vtest).to_be_visible(timeout=30000)
    vtest.click()
    snapshot = page.get_by_test_id("incident-panel").get_by_test_id("panel-snapshot")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=snapshot.element_handle())
    page.wait_for_timeout(600)  # the map eases the incident clear of the panel
    page.screenshot(path=str(doc_screenshots / "cop-incident-panel.png"))

    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('hwarang.token')") is None

    host = urlparse(demo_server.base_url).netloc
    foreign = [
        url for url in requests if not url.startswith(("data:", "blob:")) and urlparse(url).netloc != host
    ]
    assert foreign == [], f"the page made requests to other hosts: {foreign}"
    assert any("/api/v1/ws" in url for url in requests) and any("/static/app.js" in url for url in requests)


def test_panel_shows_evidence_and_timeline_and_acknowledge_reaches_a_second_session(
    browser: Browser,
    context: BrowserContext,
    demo_server: DemoServer,
    admin_token: str,
    doc_screenshots: Path,
) -> None:
    page = _logged_in(context, demo_server)
    other_context = browser.new_context(viewport=VIEWPORT)
    try:
        other = _logged_in(other_context, demo_server)
        first = inject_event(demo_server.base_url, admin_token, PLACES[2], seed=302)
        inject_event(demo_server.base_url, admin_token, PLACES[2], seed=303)
        expect(_row(other, first)).to_be_visible(timeout=5000)

        _row(page, first).click()
        panel = page.get_by_test_id("incident-panel")
        expect(panel).to_be_visible()
        expect(panel).to_have_attribute("data-incident-id", str(first))
        snapshot = panel.get_by_test_id("panel-snapshot")
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=snapshot.element_handle(), timeout=5000
        )
        expect(panel.get_by_test_id("timeline-entry").first).to_be_visible(timeout=5000)
        expect(panel.get_by_test_id("panel-state")).to_have_attribute("data-state", "new")
        page.wait_for_function(ON_MAP, arg=str(first), timeout=5000)

        with page.expect_response(lambda r: r.url.endswith(f"/incidents/{first}/transitions")) as answer:
            panel.get_by_test_id("action-acknowledged").click()
        assert answer.value.status == 200, answer.value.text()
        expect(panel.get_by_test_id("panel-state")).to_have_attribute(
            "data-state", "acknowledged", timeout=5000
        )
        expect(_row(page, first).get_by_test_id("incident-state")).to_have_attribute(
            "data-state", "acknowledged"
        )
        # The other operator's screen changes without reload, over its own WebSocket.
        other.evaluate("() => { window.__notReloaded = true; }")
        expect(_row(other, first).get_by_test_id("incident-state")).to_have_attribute(
            "data-state", "acknowledged", timeout=5000
        )
        expect(_row(other, first).get_by_test_id("ack-button")).to_have_count(0)
        assert other.evaluate("() => window.__notReloaded") is True
        expect(panel.locator('[data-testid="timeline-entry"][data-kind="state"]')).to_have_count(
            1, timeout=5000
        )
    finally:
        other_context.close()


def test_keyboard_moves_acknowledges_notes_and_closes(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = _logged_in(context, demo_server)
    incident_id = inject_event(demo_server.base_url, admin_token, PLACES[3], seed=304)
    row = _row(page, incident_id)
    expect(row).to_be_visible(timeout=5000)

    page.keyboard.press("?")
    help_overlay = page.get_by_test_id("help-overlay")
    expect(help_overlay).to_be_visible()
    for key in ("j", "k", "a", "n", "Esc", "?"):
        expect(help_overlay.locator("kbd", has_text=key).first).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_overlay).to_be_hidden()

    # Only Gwangju's incidents listed; j selects the first row, Enter opens it.
    page.get_by_test_id("filter-sido").select_option("29")
    expect(page.get_by_test_id("incident-row")).to_have_count(1)
    page.locator("h1").click()  # focus back on the page, not the select
    page.keyboard.press("j")
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Enter")
    panel = page.get_by_test_id("incident-panel")
    expect(panel).to_have_attribute("data-incident-id", str(incident_id))
    page.keyboard.press("a")
    expect(panel.get_by_test_id("panel-state")).to_have_attribute("data-state", "acknowledged", timeout=5000)
    expect(row.get_by_test_id("incident-state")).to_have_attribute("data-state", "acknowledged")

    page.keyboard.press("n")
    expect(panel.get_by_test_id("note-input")).to_be_focused()
    page.keyboard.type("keyboard note 304")
    panel.get_by_test_id("note-submit").click()
    expect(panel.locator('[data-testid="timeline-entry"]', has_text="keyboard note 304")).to_be_visible(
        timeout=5000
    )
    page.locator("body").click(position={"x": 5, "y": 880})
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def test_api_errors_are_shown_and_agency_task_is_listed(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = _logged_in(context, demo_server)
    incident_id = inject_event(demo_server.base_url, admin_token, PLACES[4], seed=305)
    _row(page, incident_id).click()
    panel = page.get_by_test_id("incident-panel")
    expect(panel).to_have_attribute("data-incident-id", str(incident_id))

    # A task due in the past: the hub answers 422 and the panel says why.
    panel.get_by_test_id("task-title").fill("check the fence")
    panel.get_by_test_id("task-due").fill("-5")
    with page.expect_response(lambda r: r.url.endswith(f"/incidents/{incident_id}/tasks")) as answer:
        panel.get_by_test_id("task-submit").click()
    assert answer.value.status == 422
    error = panel.get_by_test_id("panel-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("422")

    # A state the workflow refuses from 'new' (sent through the API the page uses): 409 shown as is.
    status = page.evaluate(
        """async (id) => {
            const r = await fetch(`/api/v1/incidents/${id}/transitions`, {method: 'POST',
              headers: {Authorization: `Bearer ${sessionStorage.getItem('hwarang.token')}`,
                        'Content-Type': 'application/json'},
              body: JSON.stringify({to: 'resolved', reason: 'x'})});
            return r.status; }""",
        str(incident_id),
    )
    assert status == 409

    panel.get_by_test_id("task-due").fill("30")
    with page.expect_response(lambda r: r.url.endswith(f"/incidents/{incident_id}/tasks")) as answer:
        panel.get_by_test_id("task-submit").click()
    assert answer.value.status == 201, answer.value.text()
    expect(panel.get_by_test_id("task").first).to_contain_text("check the fence", timeout=5000)
    expect(error).to_be_hidden()


def test_language_toggle_and_dates_in_kst_whatever_the_browser_zone(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = _logged_in(context, demo_server)
    occurred = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)  # 2026-01-03 00:04:05 in Seoul
    incident_id = inject_event(demo_server.base_url, admin_token, PLACES[5], seed=306, occurred_at=occurred)
    row = _row(page, incident_id)
    expect(row.get_by_test_id("incident-time")).to_have_text("2026-01-03 00:04:05", timeout=5000)
    assert page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"

    expect(page.locator("h1")).to_have_text("화랑 통합방위 상황실")
    expect(row.get_by_test_id("incident-state")).to_contain_text("신규")
    page.get_by_test_id("lang-toggle").click()
    expect(page.locator("h1")).to_have_text("Hwarang Integrated Defense Situation Room")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    expect(row.get_by_test_id("incident-state")).to_contain_text("New")
    expect(page.get_by_test_id("connection-state")).to_contain_text("Live")
    page.get_by_test_id("lang-toggle").click()
    expect(page.locator("h1")).to_have_text("화랑 통합방위 상황실")
    expect(row.get_by_test_id("incident-time")).to_have_text("2026-01-03 00:04:05")


def test_reconnect_resumes_from_last_seq_and_misses_nothing(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = _logged_in(context, demo_server)
    state = page.get_by_test_id("connection-state")

    page.evaluate("() => window.hwarangLive.hold()")
    expect(state).to_have_attribute("data-state", "offline")
    missed = [
        inject_event(demo_server.base_url, admin_token, PLACES[0], seed=seed) for seed in (307, 308, 309)
    ]
    page.wait_for_timeout(800)
    for incident_id in missed:
        expect(_row(page, incident_id)).to_have_count(0)

    page.evaluate("() => window.hwarangLive.release()")
    expect(state).to_have_attribute("data-state", "live", timeout=5000)
    for incident_id in missed:
        expect(_row(page, incident_id)).to_be_visible(timeout=5000)
        page.wait_for_function(ON_MAP, arg=str(incident_id), timeout=5000)

    # A socket the network drops reconnects by itself and resumes too.
    page.evaluate("() => window.hwarangLive.breakConnection()")
    later = inject_event(demo_server.base_url, admin_token, PLACES[0], seed=310)
    expect(_row(page, later)).to_be_visible(timeout=8000)
    expect(state).to_have_attribute("data-state", "live", timeout=8000)


def test_filters_sort_and_camera_search(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = _logged_in(context, demo_server)
    busan = inject_event(demo_server.base_url, admin_token, PLACES[1], seed=311)
    seoul = inject_event(demo_server.base_url, admin_token, PLACES[0], seed=312)
    expect(_row(page, busan)).to_be_visible(timeout=5000)
    expect(_row(page, seoul)).to_be_visible(timeout=5000)

    page.get_by_test_id("filter-sido").select_option("26")
    expect(_row(page, seoul)).to_have_count(0)
    expect(_row(page, busan)).to_be_visible()
    page.wait_for_function(f"(id) => !({ON_MAP})(id)", arg=str(seoul), timeout=2000)  # off the map too
    page.get_by_test_id("filter-sido").select_option("")
    expect(_row(page, seoul)).to_be_visible()

    page.get_by_test_id("filter-state").select_option("acknowledged")
    expect(_row(page, seoul)).to_have_count(0)
    page.get_by_test_id("filter-state").select_option("")

    header = page.locator('th[data-sort="camera"]')
    header.click()
    expect(header).to_have_attribute("data-sorted", "asc")
    unsorted = page.eval_on_selector_all(
        '[data-testid="incident-row"] td.camera',
        """(cells) => cells.map((c) => c.textContent)
            .filter((id, i, ids) => i > 0 && ids[i - 1].localeCompare(id) > 0)""",
    )
    assert unsorted == [], "rows out of camera order"

    search = page.get_by_test_id("camera-search")
    search.fill("gos-coast")
    result = page.get_by_test_id("camera-result").first
    expect(result).to_be_visible()
    camera_id = result.get_attribute("data-camera-id")
    result.click()
    expect(page.get_by_test_id("camera-popup")).to_have_attribute("data-camera-id", camera_id or "")
    page.wait_for_function("() => window.hwarangMap.getZoom() >= 14", timeout=8000)


def test_configured_tile_server_on_the_hub_origin_is_drawn_under_the_layers(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    """A site's tile path (the page's <meta name="hwarang-tiles">, set by HWARANG_WEB_TILES at build)."""
    page_html = context.request.get(demo_server.base_url + "/").text()
    assert '<meta name="hwarang-tiles" content="">' in page_html, "no tile server by default"
    tile_png = cv2.imencode(".png", np.full((256, 256, 3), (60, 90, 60), np.uint8))[1].tobytes()
    tiles: list[str] = []

    def tile(route: Route) -> None:
        tiles.append(route.request.url)
        route.fulfill(body=tile_png, content_type="image/png")

    # What HWARANG_WEB_TILES writes into the built page (fulfilling the page itself from the test would
    # make Chromium treat it as a public page and block its loopback WebSocket).
    context.add_init_script(
        """document.addEventListener('DOMContentLoaded', () => {
            document.querySelector('meta[name="hwarang-tiles"]').content = '/tiles/{z}/{x}/{y}.png'; });"""
    )
    context.route("**/tiles/**", tile)
    page = _logged_in(context, demo_server)
    assert page.evaluate("() => window.hwarangMap.getLayer('tiles')?.type") == "raster"
    assert tiles, "no tile was requested"
    host = urlparse(demo_server.base_url).netloc
    assert all(urlparse(url).netloc == host and "/tiles/" in url for url in tiles), tiles[:3]


def test_drones_layer_shows_while_the_drone_endpoint_answers_and_hides_on_404(
    browser: Browser, context: BrowserContext, demo_server: DemoServer
) -> None:
    visibility = "() => window.hwarangMap.getLayoutProperty('drones-points', 'visibility')"
    page = _logged_in(context, demo_server)
    page.wait_for_function("() => document.documentElement.dataset.dronesLayer === 'shown'", timeout=5000)
    assert page.evaluate(visibility) == "visible"

    without = browser.new_context(viewport=VIEWPORT)
    try:
        without.route("**/api/v1/drones/tracks.geojson", lambda route: route.fulfill(status=404, json={}))
        other = _logged_in(without, demo_server)
        other.wait_for_function(
            "() => document.documentElement.dataset.dronesLayer === 'hidden'", timeout=5000
        )
        assert other.evaluate(visibility) == "none"
    finally:
        without.close()


def test_a_token_the_hub_refuses_returns_to_the_login_page(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    page = _logged_in(context, demo_server)
    page.evaluate(
        """() => { sessionStorage.setItem('hwarang.token', 'not.a-valid.token');
                   sessionStorage.setItem('hwarang.refresh', 'revoked'); }"""
    )
    page.reload()
    expect(page.get_by_test_id("login-error")).to_be_visible(timeout=10000)
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("incident-table")).to_be_hidden()
    assert page.evaluate("() => sessionStorage.getItem('hwarang.token')") is None
