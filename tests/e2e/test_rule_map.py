"""At street zoom the map shows a calibrated camera's rules on the ground: the demo's PETS camera's
zones (translucent fill) and tripwire (dashed), each named by a label; zoomed out they are gone."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e.cop_support import login, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

CAMERA = "icn-harbour-plaza-01"  # calibrated in the demo configuration
AT_CAMERA = [126.6164, 37.4744]
EXPECTED = {("harbour-road", "zone"), ("plaza-loitering", "zone"), ("plaza-tripwire", "line")}
RENDERED = """(camera) => window.hwarangMap
    .queryRenderedFeatures({ layers: ['rules-fill', 'rules-line'] })
    .filter((f) => f.properties.camera_id === camera)
    .map((f) => [f.properties.rule, f.properties.kind, f.geometry.type])"""


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context
    context.close()


def test_street_zoom_over_the_pets_camera_shows_its_zones_and_tripwire(
    context: BrowserContext, demo_server: DemoServer, doc_screenshots: Path
) -> None:
    page = context.new_page()
    login(page, demo_server.base_url, demo_server.password)
    wait_map_ready(page)
    assert page.evaluate(RENDERED, CAMERA) == []  # the nation: no rules drawn

    page.evaluate("(center) => window.hwarangMap.jumpTo({ center, zoom: 17.5 })", AT_CAMERA)
    page.wait_for_function(
        "([camera, wanted]) => { const got = new Set(("
        + RENDERED
        + ")(camera).map(([r, k]) => r + '/' + k));"
        " return wanted.every((w) => got.has(w)); }",
        arg=[CAMERA, [f"{rule}/{kind}" for rule, kind in EXPECTED]],
        timeout=15000,
    )
    rendered = {(rule, kind, geometry) for rule, kind, geometry in page.evaluate(RENDERED, CAMERA)}
    assert {(rule, kind) for rule, kind, _ in rendered} >= EXPECTED
    assert ("harbour-road", "zone", "Polygon") in rendered
    assert ("plaza-tripwire", "line", "LineString") in rendered
    labels = page.locator(f'[data-testid="rule-label"][data-camera-id="{CAMERA}"]')
    for rule, _kind in EXPECTED:
        expect(labels.filter(has_text=rule)).to_have_count(1)
    expect(labels.filter(has_text="plaza-tripwire")).to_have_attribute("title", "선 통과")
    page.screenshot(path=str(doc_screenshots / "console-rule-map.png"))

    page.evaluate("(center) => window.hwarangMap.jumpTo({ center, zoom: 10 })", AT_CAMERA)
    expect(labels).to_have_count(0)
    page.wait_for_function(f"() => ({RENDERED})('{CAMERA}').length === 0")
