"""A police liaison acknowledges, reports progress on and finishes its own agency's task from the
page's task inbox (issue #15, item 3)."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, expect

from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e


def _incheon_incident(server: DemoServer, token: str) -> str:
    """An incident of the Incheon camera (sido 28), waiting for the demo to open one."""
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < deadline:
            incidents: list[dict[str, Any]] = client.get("/api/v1/incidents", params={"limit": 200}).json()
            found = [i for i in incidents if str(i["sigungu_code"]).startswith("28") and i["state"] == "new"]
            if found:
                return str(found[0]["id"])
            time.sleep(0.5)
    raise AssertionError("no Incheon incident within 60 s")


def test_police_liaison_acknowledges_and_finishes_its_task(
    browser: Browser, demo_server: DemoServer, admin_token: str, artifacts: Path
) -> None:
    incident = _incheon_incident(demo_server, admin_token)
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    task = httpx.post(
        f"{demo_server.base_url}/api/v1/incidents/{incident}/tasks",
        json={"agency_code": "police-28", "title": "현장 확인 (check on site)", "due_at": due},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(demo_server.base_url + "/")
    page.get_by_test_id("login-username").fill("police-28-liaison")
    page.get_by_test_id("login-password").fill(demo_server.password)
    page.get_by_test_id("login-submit").click()
    item = page.locator(f'[data-testid="task-item"][data-task-id="{task_id}"]')
    expect(item).to_have_attribute("data-state", "open", timeout=15000)

    item.get_by_test_id("task-acknowledged").click()
    expect(item).to_have_attribute("data-state", "acknowledged", timeout=10000)

    def answer(dialog: Dialog) -> None:
        dialog.accept("순찰차 도착 (patrol on site)")

    page.once("dialog", answer)
    item.get_by_test_id("task-in_progress").click()
    expect(item).to_have_attribute("data-state", "in_progress", timeout=10000)
    item.get_by_test_id("task-done").click()
    expect(item).to_have_attribute("data-state", "done", timeout=10000)
    page.screenshot(path=str(artifacts / "partner-task.png"))
    context.close()

    timeline = httpx.get(
        f"{demo_server.base_url}/api/v1/incidents/{incident}/timeline",
        headers={"Authorization": f"Bearer {admin_token}"},
    ).json()
    steps = [(s["actor"], s["to_state"]) for s in timeline if s["kind"] == "task.state"]
    assert steps == [
        ("police-28-liaison", "acknowledged"),
        ("police-28-liaison", "in_progress"),
        ("police-28-liaison", "done"),
    ]
