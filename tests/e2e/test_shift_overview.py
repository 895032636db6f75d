"""The overview of a shift: statistics of the incidents the user may view, and full-text search
whose result opens the incident."""

# Named test_shift_*: collected after test_demo_live_page, whose 30 s deadline counts from
# the shared demo's start.

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e.cop_support import Place, inject_event, login, night_time, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

JEONJU = Place("52111", 35.8120, 127.1480)  # a place no other browser test counts incidents in


def _post(base_url: str, token: str, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


def test_statistics_view_and_search(
    context: BrowserContext, demo_server: DemoServer, admin_token: str, doc_screenshots: Path
) -> None:
    base = demo_server.base_url
    noted = inject_event(base, admin_token, JEONJU, seed=801, occurred_at=night_time())  # high: night
    gull = inject_event(base, admin_token, JEONJU, seed=802)
    word = "빨간우산" + uuid.uuid4().hex[:4]
    _post(
        base,
        admin_token,
        f"/api/v1/incidents/{noted}/notes",
        {"text": f"{word}을 든 사람이 정문 앞을 서성임"},
    )
    _post(base, admin_token, f"/api/v1/incidents/{gull}/transitions", {"to": "acknowledged"})
    _post(
        base, admin_token, f"/api/v1/incidents/{gull}/transitions", {"to": "false_alarm", "reason": "갈매기"}
    )

    page = context.new_page()
    login(page, base, demo_server.password)
    wait_map_ready(page)
    page.get_by_test_id("overview-button").click()
    stats = page.get_by_test_id("statistics")
    expect(stats).to_be_visible()
    total = int(page.get_by_test_id("stat-total").inner_text().split()[1].rstrip("건"))
    assert total >= 2
    hours = page.locator(".hour-bar").evaluate_all("(bars) => bars.map((b) => Number(b.dataset.count))")
    assert len(hours) == 24 and sum(hours) == total
    expect(page.get_by_test_id("stat-severity")).to_contain_text("높음")
    expect(page.get_by_test_id("stat-sido")).to_contain_text("전북특별자치도")
    expect(page.get_by_test_id("stat-response")).to_contain_text("접수까지: 중앙값")
    camera = f"e2e-cop-{JEONJU.sigungu_code}-802"
    expect(page.locator(f'[data-testid="stat-false-alarms"] li[data-camera-id="{camera}"]')).to_contain_text(
        "종결 1건 중 오경보 1건 (100%)"
    )

    page.get_by_test_id("overview-search").fill(word[:-2])  # a prefix of the word in the note
    page.get_by_test_id("overview-search-go").click()
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-incident-id", str(noted))
    page.screenshot(path=str(doc_screenshots / "console-overview.png"))

    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("stat-response")).to_contain_text("To acknowledge: median")
    expect(page.get_by_test_id("stat-sido")).to_contain_text("Jeonbuk State")

    results.first.click()
    expect(page.get_by_test_id("overview")).to_be_hidden()
    expect(page.get_by_test_id("incident-panel")).to_have_attribute("data-incident-id", str(noted))
