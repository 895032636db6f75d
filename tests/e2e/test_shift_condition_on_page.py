"""Law-gated evidence on an open page: an army commander declares an alert level, the local
government's head approves, the army user sees the area's CCTV evidence, and loses it within 2 s
of the lift (issue #15, item 2)."""

# Named test_shift_*: collected after test_demo_live_page, whose 30 s deadline counts from
# the shared demo's start.

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.condition_support import ArmyCondition
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e


def _incheon_incident_with_snapshot(server: DemoServer, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < deadline:
            incidents: list[dict[str, Any]] = client.get("/api/v1/incidents", params={"limit": 200}).json()
            found = [i for i in incidents if str(i["sigungu_code"]).startswith("28") and i["snapshot_sha256"]]
            if found:
                return found[0]
            time.sleep(0.5)
    raise AssertionError("no Incheon incident with a snapshot within 60 s")


def test_declare_approve_see_evidence_lift_lose_it(
    browser: Browser, demo_server: DemoServer, admin_token: str, artifacts: Path
) -> None:
    incident = _incheon_incident_with_snapshot(demo_server, admin_token)
    base = demo_server.base_url
    condition = ArmyCondition.declare(demo_server, incident["sigungu_code"], "경계태세 2급 (e2e)")
    condition.approve()

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(base + "/")
    page.get_by_test_id("login-username").fill("army-28-op")
    page.get_by_test_id("login-password").fill(demo_server.password)
    page.get_by_test_id("login-submit").click()
    row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident["id"]}"]')
    expect(row).to_be_visible(timeout=15000)
    row.click()
    snapshot = page.get_by_test_id("panel-snapshot")
    expect(snapshot).to_have_attribute("data-loaded", "1", timeout=10000)

    lifted = condition.lift()
    assert lifted.status_code == 200
    # Within 2 s the picture is off the screen (withdrawn the moment the page learns of the lift) ...
    gone = page.get_by_test_id("panel-snapshot")
    expect(gone).to_have_attribute("data-loaded", re.compile("^(withdrawn|error)$"), timeout=2000)
    expect(gone).not_to_have_attribute("src", re.compile("."))
    # ... and asked again, the hub refuses it.
    expect(gone).to_have_attribute("data-loaded", "error", timeout=10000)
    page.screenshot(path=str(artifacts / "condition-lifted.png"))
    context.close()
