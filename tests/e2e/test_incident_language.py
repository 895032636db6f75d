"""Incident titles and severity reasons in the reader's language, and the motion-only mark.

The page renders titles from codes (rule kind, rule name, class, camera) and severity reasons from
their codes, in Korean (the default) or English; the stored English title is never shown.
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from hwarang.domain import DetectorInfo
from tests.e2e.cop_support import PLACES, inject_event, login, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

MOTION = DetectorInfo(kind="motion")
NANODET = DetectorInfo(kind="model", model="nanodet", sha256="0" * 64)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context
    context.close()


def _row(page: Page, incident_id: object) -> Locator:
    return page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')


def _open(page: Page, incident_id: object) -> Locator:
    _row(page, incident_id).click()
    panel = page.get_by_test_id("incident-panel")
    expect(panel).to_have_attribute("data-incident-id", str(incident_id))
    return panel


def test_titles_reasons_and_the_motion_only_mark_follow_the_language(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = context.new_page()
    login(page, demo_server.base_url, demo_server.password)
    wait_map_ready(page)
    assert page.evaluate("() => document.documentElement.lang") == "ko"
    guessed = inject_event(demo_server.base_url, admin_token, PLACES[4], seed=401, detector=MOTION)
    seen = inject_event(demo_server.base_url, admin_token, PLACES[4], seed=402, detector=NANODET)
    camera = f"e2e-cop-{PLACES[4].sigungu_code}-401"

    # Korean: the title is rendered from codes, the stored English title is nowhere.
    title = _row(page, guessed).get_by_test_id("incident-title")
    expect(title).to_have_text(f"구역 침입 (e2e) · 사람 · {camera}", timeout=5000)
    expect(_row(page, guessed).get_by_test_id("motion-only-badge")).to_have_text("동작 감지")
    expect(_row(page, seen).get_by_test_id("motion-only-badge")).to_have_count(0)
    assert "Zone intrusion" not in page.get_by_test_id("incident-table").inner_text()

    panel = _open(page, guessed)
    expect(panel.get_by_test_id("panel-title")).to_have_text(f"구역 침입 (e2e) · 사람 · {camera}")
    expect(panel.get_by_test_id("panel-motion-only")).to_have_text(
        "동작 감지 전용: 객체 종류는 형태로 추정한 것입니다"
    )
    reasons = panel.get_by_test_id("severity-reasons")
    motion = reasons.locator('li[data-code="motion_only"]')
    expect(motion).to_have_text("동작 감지 전용 탐지기 (객체 종류는 형태 추정): 최대 보통")
    expect(reasons.locator("li").first).to_have_text(re.compile("^(위험도 규칙|기본 위험도)"))
    expect(reasons.locator('li[data-code="ordinary_area"]')).to_have_text("일반 지역 (지정 구역 밖)")
    expect(panel.locator(".badge.sev-medium")).to_have_text("보통")

    # English: the same incident, re-rendered.
    page.get_by_test_id("lang-toggle").click()
    expect(panel.get_by_test_id("panel-title")).to_have_text(f"Zone intrusion (e2e) · Person · {camera}")
    expect(panel.get_by_test_id("panel-motion-only")).to_have_text("Motion only: the class is a shape guess")
    expect(panel.get_by_test_id("severity-reasons").locator('li[data-code="motion_only"]')).to_have_text(
        "Motion-only detector (the class is a shape guess): at most Medium"
    )
    expect(title).to_have_text(f"Zone intrusion (e2e) · Person · {camera}")

    # A model's incident: no mark, the model named, no cap among its reasons.
    panel = _open(page, seen)
    expect(panel.get_by_test_id("panel-motion-only")).to_have_count(0)
    expect(panel.locator("dd", has_text="nanodet")).to_have_count(1)
    expect(panel.get_by_test_id("severity-reasons").locator('li[data-code="motion_only"]')).to_have_count(0)
    page.get_by_test_id("lang-toggle").click()
    expect(panel.get_by_test_id("panel-title")).to_contain_text("구역 침입 (e2e) · 사람")
