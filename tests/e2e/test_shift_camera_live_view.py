"""The map's camera live view, law-gated: refused without a right (and audited: before any condition,
and while the army's declaration awaits approval), granted to the army by the approved condition (the
video advances), ended within 2 s of the condition's lift.

The army's operator in Incheon (``army-28-op``) opens the vtest camera from the map's camera search
and its popup's "Live" button. Screenshot: docs/screenshots/console-live-view.png.
"""

# Named test_shift_*: collected after test_demo_live_page, whose 30 s deadline counts from
# the shared demo's start.

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.condition_support import ArmyCondition
from tests.e2e.cop_support import login, wait_map_ready
from tests.e2e.demo_support import DemoServer
from tests.e2e.live_support import VTEST_CAMERA, audit_soon, open_camera_live, video_advances

pytestmark = pytest.mark.e2e


def test_army_live_view_of_a_municipal_camera_is_refused_then_granted_then_ended(
    browser: Browser, demo_server: DemoServer, admin_token: str, doc_screenshots: Path
) -> None:
    base = demo_server.base_url
    admin = {"Authorization": f"Bearer {admin_token}"}
    camera = next(
        c for c in httpx.get(f"{base}/api/v1/cameras", headers=admin).json() if c["id"] == VTEST_CAMERA
    )
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, base, demo_server.password, "army-28-op")
    wait_map_ready(page)

    open_camera_live(page, VTEST_CAMERA)  # no condition: the army has no right to municipal CCTV
    window = page.get_by_test_id("camera-live")
    box = window.get_by_test_id("live-box")
    expect(box).to_have_attribute("data-live-state", "refused", timeout=10000)
    query = {"action": "access.denied", "actor": "army-28-op", "target": f"camera:{VTEST_CAMERA}"}
    denied = audit_soon(base, admin, query)
    assert denied[0]["detail"]["action"] == "evidence.view"

    condition = ArmyCondition.declare(demo_server, camera["sigungu_code"], "경계태세 2급 (e2e live view)")
    try:
        window.get_by_test_id("live-button").click()  # declared, not yet approved: still no right
        deadline = time.monotonic() + 10
        while len(audit_soon(base, admin, query)) < 2:
            assert time.monotonic() < deadline, "the view before approval was not refused"
            time.sleep(0.1)
        expect(box).to_have_attribute("data-live-state", "refused", timeout=10000)
        condition.approve()

        window.get_by_test_id("live-button").click()
        expect(box).to_have_attribute("data-live-state", "playing", timeout=15000)
        video_advances(page, 1.0)
        page.screenshot(path=str(doc_screenshots / "console-live-view.png"))
    finally:
        lifted = condition.lift()
        lifted_at = time.monotonic()
    assert lifted.status_code == 200, lifted.text
    expect(box).to_have_attribute("data-live-state", "denied", timeout=2000)
    assert time.monotonic() - lifted_at < 2.0
    expect(window.get_by_test_id("live-status")).not_to_be_empty()
    stops = audit_soon(base, admin, {"action": "live.stop", "actor": "army-28-op"})
    assert stops[0]["target"] == f"camera:{VTEST_CAMERA}"
    assert stops[0]["detail"]["reason"].startswith("access ended")
    context.close()
