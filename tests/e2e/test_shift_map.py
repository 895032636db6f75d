"""The map answers "where exactly": opening an incident flies to it at street level; picking a camera
in the camera search filters the list to it; the list keeps its order while incidents update."""

# Named test_shift_*: collected after test_demo_live_page, whose 30 s deadline counts from
# the shared demo's start.

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.cop_support import ON_MAP, Place, inject_event, login, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

ULSAN = Place("31140", 35.5438, 129.3300)  # places no other browser test counts incidents in
SEJONG = Place("36110", 36.4800, 127.2890)

ROW = '[data-testid="incident-row"][data-incident-id="{}"]'
ROW_ORDER = """() => [...document.querySelectorAll('[data-testid="incident-row"]')]
    .map((row) => row.dataset.incidentId)"""


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context
    context.close()


def _logged_in(context: BrowserContext, server: DemoServer) -> Page:
    page = context.new_page()
    login(page, server.base_url, server.password)
    wait_map_ready(page)
    return page


def test_opening_an_incident_flies_to_it_at_street_level(
    context: BrowserContext, demo_server: DemoServer, admin_token: str, doc_screenshots: Path
) -> None:
    page = _logged_in(context, demo_server)
    assert page.evaluate("() => window.hwarangMap.getZoom()") < 10  # the nation
    incident = inject_event(demo_server.base_url, admin_token, ULSAN, seed=511)
    page.locator(ROW.format(incident)).click()
    page.wait_for_function("(id) => document.documentElement.dataset.flownTo === id", arg=str(incident))
    assert page.evaluate("() => window.hwarangMap.getZoom()") >= 15.9
    page.wait_for_function(ON_MAP, arg=str(incident), timeout=5000)
    point = page.evaluate(
        """(id) => { const f = window.hwarangMap.queryRenderedFeatures({ layers: ['incidents'] })
            .find((x) => x.properties.id === id); const p = window.hwarangMap.project(f.geometry.coordinates);
            const c = window.hwarangMap.getCanvas(); return [p.x / c.clientWidth, p.y / c.clientHeight]; }""",
        str(incident),
    )
    assert 0.15 < point[0] < 0.75 and 0.3 < point[1] < 0.7, f"not in the open part of the map: {point}"
    page.screenshot(path=str(doc_screenshots / "console-fly-to.png"))


def test_picking_a_camera_in_the_search_filters_the_list(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = _logged_in(context, demo_server)
    other = inject_event(demo_server.base_url, admin_token, ULSAN, seed=512)
    camera = "gos-coast-fence-01"
    expect(
        page.locator(f'[data-testid="incident-row"]:has(td.camera:text-is("{camera}"))').first
    ).to_be_visible(timeout=30000)
    expect(page.locator(ROW.format(other))).to_have_count(1)

    page.get_by_test_id("camera-search").fill("fence-01")
    page.locator(f'[data-testid="camera-result"][data-camera-id="{camera}"]').click()
    expect(page.get_by_test_id("camera-filter")).to_be_visible()
    expect(page.locator(ROW.format(other))).to_have_count(0)
    # the rows and the count, read in one evaluation (live updates keep arriving)
    cameras, count = page.evaluate(
        """() => [[...document.querySelectorAll('[data-testid="incident-row"] td.camera')]
                    .map((c) => c.textContent),
                  Number(document.querySelector('[data-testid="incident-count"]').textContent)]"""
    )
    assert cameras and set(cameras) == {camera}, cameras
    assert count == len(cameras) or len(cameras) == 500

    page.get_by_test_id("camera-filter").click()
    expect(page.get_by_test_id("camera-filter")).to_be_hidden()
    expect(page.locator(ROW.format(other))).to_have_count(1)


def test_rows_keep_their_place_when_an_incident_updates(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = _logged_in(context, demo_server)
    now = datetime.now(UTC)
    older = inject_event(
        demo_server.base_url, admin_token, SEJONG, seed=514, occurred_at=now - timedelta(minutes=3)
    )
    newer = inject_event(
        demo_server.base_url, admin_token, SEJONG, seed=515, occurred_at=now - timedelta(minutes=2)
    )
    expect(page.locator(ROW.format(older))).to_have_count(1)
    expect(page.locator(ROW.format(newer))).to_have_count(1)
    expect(page.locator('th[data-sort="time"]')).to_have_attribute("data-sorted", "desc")
    expect(page.locator('th[data-sort="time"]')).to_have_text("최초 탐지 (KST)")

    def positions() -> tuple[int, int]:
        order = page.evaluate(ROW_ORDER)
        return order.index(str(older)), order.index(str(newer))

    before = positions()
    assert before[1] < before[0], "the later first detection is above"
    seq = int(page.locator(ROW.format(older)).get_attribute("data-seq") or "0")
    again = inject_event(
        demo_server.base_url,
        admin_token,
        SEJONG,
        seed=514,
        occurred_at=now - timedelta(minutes=3) + timedelta(seconds=10),
    )
    assert again == older, "the same camera and track: the same incident"
    page.wait_for_function(
        "([id, seq]) => Number(document.querySelector(`[data-incident-id='${id}']`)?.dataset.seq) > seq",
        arg=[str(older), seq],
    )
    after = positions()
    assert after[1] < after[0], "an update does not move the older incident above the newer one"
    time_cell = page.locator(ROW.format(older)).get_by_test_id("incident-time")
    kst = timezone(timedelta(hours=9))
    expect(time_cell).to_have_text((now - timedelta(minutes=3)).astimezone(kst).strftime("%Y-%m-%d %H:%M:%S"))
