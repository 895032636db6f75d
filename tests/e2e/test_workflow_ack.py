"""The workflow from a user's seat: acknowledge a new incident in the live list and see its state change."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e


def _login(page: Page, server: DemoServer) -> None:
    page.goto(server.base_url + "/")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(server.password)
    page.get_by_test_id("login-submit").click()


def test_acknowledge_button_moves_a_new_incident_to_acknowledged(
    browser: Browser, demo_server: DemoServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    _login(page, demo_server)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "live", timeout=10000)
    new_rows = page.locator('[data-testid="incident-row"]:has([data-testid="ack-button"])')
    expect(new_rows.first).to_be_visible(timeout=30000)
    incident_id = new_rows.first.get_attribute("data-incident-id")
    seq_before = int(new_rows.first.get_attribute("data-seq") or "0")
    row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')
    expect(row.get_by_test_id("incident-state")).to_have_attribute("data-state", "new")

    with page.expect_response(lambda r: r.url.endswith(f"/incidents/{incident_id}/transitions")) as answer:
        row.get_by_test_id("ack-button").click()

    assert answer.value.status == 200, answer.value.text()
    state = row.get_by_test_id("incident-state")
    expect(state).to_have_attribute("data-state", "acknowledged", timeout=10000)
    expect(row.get_by_test_id("ack-button")).to_have_count(0)
    assert int(row.get_attribute("data-seq") or "0") > seq_before, "the row shows the incident's new seq"
    page.screenshot(path=str(artifacts / "workflow-acknowledged.png"), full_page=False)

    token = page.evaluate("() => sessionStorage.getItem('hwarang.token')")
    timeline = page.request.get(
        f"{demo_server.base_url}/api/v1/incidents/{incident_id}/timeline",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert timeline.ok, timeline.text()
    steps = [(e["kind"], e["actor"], e["from_state"], e["to_state"]) for e in timeline.json()]
    assert ("state", "admin", "new", "acknowledged") in steps
    context.close()
