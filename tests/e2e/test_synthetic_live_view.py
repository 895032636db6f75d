"""A synthetic camera's live view from the map: the admin opens it from the camera popup, it plays.

The demo's Goseong coast cameras are synthetic scenes, encoded once at the edge into the clip ring;
the popup's "Live" button makes the hub lease the camera's stream and relay it to the page, where
Debian's chromium plays it in Media Source Extensions. The admin owns everything: no condition needed.
The view is audited (``live.start`` on ``camera:<id>``) and health counts its viewer.
"""

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.cop_support import login, wait_map_ready
from tests.e2e.demo_support import DemoServer
from tests.e2e.live_support import audit_soon, open_camera_live, video_advances

pytestmark = pytest.mark.e2e

SYNTHETIC_CAMERA = "gos-coast-fence-01"


def test_admin_live_view_of_a_synthetic_camera_advances(
    browser: Browser, demo_server: DemoServer, admin_token: str
) -> None:
    base = demo_server.base_url
    admin = {"Authorization": f"Bearer {admin_token}"}
    cameras = httpx.get(f"{base}/api/v1/cameras", headers=admin).json()
    assert any(c["id"] == SYNTHETIC_CAMERA for c in cameras), "the demo has no synthetic Goseong camera"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        login(page, base, demo_server.password)
        wait_map_ready(page)
        open_camera_live(page, SYNTHETIC_CAMERA)
        window = page.get_by_test_id("camera-live")
        box = window.get_by_test_id("live-box")
        expect(box).to_have_attribute("data-live-state", "playing", timeout=15000)
        video_advances(page, 1.0)
        video = window.get_by_test_id("live-video").element_handle()
        width = int(page.evaluate("(v) => v.videoWidth", video))
        assert 0 < width <= 640, width  # 960x540 scene, encoded at most 640 px wide

        started = audit_soon(base, admin, {"action": "live.start", "target": f"camera:{SYNTHETIC_CAMERA}"})
        assert started[0]["actor"] == "admin"
        health = httpx.get(f"{base}/api/v1/health").json()
        counters = health["extra"]["live_video"][SYNTHETIC_CAMERA]
        assert counters["viewers"] >= 1 and counters["bytes_sent"] > 0
    finally:
        context.close()
    stops = audit_soon(base, admin, {"action": "live.stop", "target": f"camera:{SYNTHETIC_CAMERA}"})
    assert stops[0]["actor"] == "admin" and stops[0]["detail"]["bytes_sent"] > 0
