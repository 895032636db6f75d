"""An administrator draws a zone on the PETS camera's picture in the page, saves, and the running
edge raises an intrusion in it within 10 s, without a restart (issue #17, item 5).

Named test_shift_*: collected after test_demo_live_page, whose 30 s deadline counts from the
shared demo's start. The drawn rule is removed again at the end (other tests count this camera's
incidents).
"""

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e.cop_support import login, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

CAMERA = "icn-harbour-plaza-01"
# Where people walk in the PETS 2009 clip (768 x 576): the plaza below the building line.
PLAZA = [(40, 200), (740, 170), (740, 560), (40, 560)]
FIGURES = Path(__file__).resolve().parents[2] / "test-artifacts" / "camera-editor-latency.jsonl"


def _api(base: str, token: str, path: str, body: dict[str, Any] | None = None, method: str = "GET") -> Any:
    request = urllib.request.Request(
        f"{base}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _camera_health(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/api/v1/health", timeout=10) as response:
        health = json.load(response)
    cameras = health.get("extra", health).get("cameras", [])
    return next(c for c in cameras if c["camera_id"] == CAMERA)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    yield context
    context.close()


def test_admin_draws_a_zone_and_the_running_edge_raises_an_intrusion_in_it(
    context: BrowserContext, demo_server: DemoServer, admin_token: str, doc_screenshots: Path
) -> None:
    base = demo_server.base_url
    before = _api(base, admin_token, f"/api/v1/cameras/{CAMERA}/config")
    rule_name = f"drawn-plaza-{uuid.uuid4().hex[:6]}"
    page = context.new_page()
    login(page, base, demo_server.password)
    wait_map_ready(page)
    page.get_by_test_id("camera-search").fill(CAMERA)
    page.get_by_test_id("camera-result-edit").first.click()

    picture = page.get_by_test_id("ce-picture")
    expect(picture).to_have_attribute("data-width", "768")
    health_before = _camera_health(base)
    box = picture.bounding_box()
    assert box is not None
    for x, y in PLAZA:  # clicks on the shown (scaled) picture, at the frame's pixels
        picture.click(position={"x": x * box["width"] / 768, "y": y * box["height"] / 576})
    page.get_by_test_id("ce-rule-name").fill(rule_name)
    page.get_by_test_id("ce-rule-add").click()
    expect(page.locator(f'[data-testid="ce-rule"][data-rule="{rule_name}"]')).to_be_visible()
    try:
        page.get_by_test_id("ce-save").click()
        saved_at = time.time()
        status = page.get_by_test_id("ce-edge-status")
        expect(status).to_have_attribute("data-status", "applied", timeout=10_000)
        seen_applied = time.time()
        version = _api(base, admin_token, f"/api/v1/cameras/{CAMERA}/config")
        assert version["version"] == before["version"] + 1
        assert _close(version["config"]["rules"][-1]["polygon"], PLAZA)
        assert version["edge"]["how"] == "rules"

        event = _first_event(base, admin_token, rule_name, deadline=saved_at + 10.0)
        first_event = time.time()
        assert event["rule"] == "zone_intrusion"

        health_after = _camera_health(base)
        assert health_after["frames_in"] > health_before["frames_in"]  # the same worker: no restart
        assert health_after["reconnects"] == health_before["reconnects"]
        assert (health_after["config_version"], health_after["state"]) == (version["version"], "running")
        page.screenshot(path=str(doc_screenshots / "console-camera-editor.png"))
        _record(version, event, saved_at, seen_applied, first_event)
    finally:
        current = _api(base, admin_token, f"/api/v1/cameras/{CAMERA}/config")
        restored = {"version": current["version"], "config": before["config"]}
        _api(base, admin_token, f"/api/v1/cameras/{CAMERA}/config", restored, method="PUT")


def _close(polygon: list[list[float]], expected: list[tuple[int, int]]) -> bool:
    """The clicked points land on the frame's pixels within a pixel or two of rounding."""
    return len(polygon) == len(expected) and all(
        abs(px - ex) <= 2 and abs(py - ey) <= 2 for (px, py), (ex, ey) in zip(polygon, expected, strict=True)
    )


def _first_event(base: str, token: str, rule_name: str, *, deadline: float) -> dict[str, Any]:
    while time.time() < deadline:
        events = _api(base, token, f"/api/v1/events?camera_id={CAMERA}&limit=200")
        found = [e for e in events if e["rule_name"] == rule_name]
        if found:
            return dict(min(found, key=lambda e: e["occurred_at"]))
        time.sleep(0.2)
    raise AssertionError(f"no event of rule {rule_name} within 10 s of saving")


def _record(
    version: dict[str, Any], event: dict[str, Any], saved: float, applied: float, seen: float
) -> None:
    created = datetime.fromisoformat(version["created_at"]).timestamp()
    figures = {
        "change_to_applied_at_edge_s": round(
            datetime.fromisoformat(version["edge"]["at"]).timestamp() - created, 3
        ),
        "first_event_frame_after_change_s": round(
            datetime.fromisoformat(event["occurred_at"]).timestamp() - created, 3
        ),
        "click_to_page_shows_applied_s": round(applied - saved, 3),
        "click_to_event_at_hub_seen_s": round(seen - saved, 3),
    }
    print("camera editor latency:", figures)
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with FIGURES.open("a", encoding="utf-8") as out:
        out.write(json.dumps(figures) + "\n")
