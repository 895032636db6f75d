"""Helpers of the live-view browser tests: open a camera's live view from the map, watch it play."""

import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect

VTEST_CAMERA = "icn-harbour-plaza-01"
ADVANCES = "([v, t]) => v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > t"


def open_camera_live(page: Page, camera_id: str) -> None:
    """Find the camera in the map's search, open its popup and press its Live button."""
    page.get_by_test_id("camera-search").fill(camera_id)
    page.locator(f'[data-testid="camera-result"][data-camera-id="{camera_id}"]').first.click()
    popup = page.get_by_test_id("camera-popup")
    expect(popup).to_have_attribute("data-camera-id", camera_id)
    popup.get_by_test_id("camera-live-button").click()


def video_advances(page: Page, seconds: float, timeout_ms: int = 20000) -> None:
    """The camera window's video plays and its currentTime advances by more than ``seconds``."""
    video = page.get_by_test_id("camera-live").get_by_test_id("live-video").element_handle()
    page.wait_for_function(ADVANCES, arg=[video, 0], timeout=timeout_ms)
    first = float(page.evaluate("(v) => v.currentTime", video))
    page.wait_for_function(ADVANCES, arg=[video, first + seconds], timeout=timeout_ms)


def audit_soon(base: str, headers: dict[str, str], query: dict[str, str]) -> list[dict[str, Any]]:
    """The audit records matching ``query`` once there is one (bounded wait)."""
    deadline = time.monotonic() + 5
    while True:
        found: list[dict[str, Any]] = httpx.get(f"{base}/api/v1/audit", params=query, headers=headers).json()
        if found or time.monotonic() > deadline:
            assert found, f"no audit record {query}"
            return found
        time.sleep(0.1)
