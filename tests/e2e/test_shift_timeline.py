"""The incident timeline read by a person: a burst of ingest events is one line ("+7 events, 1
camera"), every entry is a sentence in the page's language, times are KST, deadlines human."""

# Named test_shift_*: collected after test_demo_live_page, whose 30 s deadline counts from
# the shared demo's start.

import hashlib
import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from hwarang.domain import (
    BoundingBox,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    RuleKind,
    SnapshotRef,
    stable_event_id,
)
from tests.e2e.cop_support import login, snapshot_jpeg, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

SPOT = GeoPoint(lat=37.5650, lon=126.9770)  # Seoul Jung-gu, away from the other tests' places
MACHINE_NOISE = re.compile(r"system:ingest|event\.added|seq=|event_id=|due_at=|score=|\+00:00|\[open\]")


def _post(base_url: str, token: str, camera_id: str, index: int, at: datetime) -> uuid.UUID:
    """One event of a person in the same zone at ``camera_id`` (what an edge sends)."""
    data = snapshot_jpeg(700)  # one look: the appearance term does not split the person
    event = Event(
        id=stable_event_id(camera_id, "e2e-timeline", 70, at),
        camera_id=camera_id,
        center_id="e2e-center-11140",
        sido_code="11",
        sigungu_code="11140",
        occurred_at=at,
        object_class=ObjectClass.PERSON,
        confidence=0.9,
        box=BoundingBox(x1=60, y1=50, x2=140, y2=200),
        track_id=70,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="e2e-timeline",
        geo=SPOT,
        snapshot=SnapshotRef(sha256=hashlib.sha256(data).hexdigest(), width=320, height=240),
        frame_index=index,
    )
    request = urllib.request.Request(
        f"{base_url}/api/v1/events",
        data=EventMessage(event=event, snapshot_jpeg=data).model_dump_json().encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return uuid.UUID(json.load(response)["incident_id"])


def _task(base_url: str, token: str, incident_id: uuid.UUID, due: datetime) -> None:
    body = {"agency_code": "police-28", "title": "현장 확인", "due_at": due.isoformat()}
    request = urllib.request.Request(
        f"{base_url}/api/v1/incidents/{incident_id}/tasks",
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


def _open(page: Page, incident_id: uuid.UUID) -> Locator:
    row = page.locator(f'[data-testid="incident-row"][data-incident-id="{incident_id}"]')
    expect(row).to_have_count(1, timeout=10000)
    row.click()
    panel = page.get_by_test_id("incident-panel")
    expect(panel).to_have_attribute("data-incident-id", str(incident_id))
    return panel


def test_the_timeline_folds_bursts_and_reads_in_both_languages(
    context: BrowserContext, demo_server: DemoServer, admin_token: str, doc_screenshots: Path
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=30)
    incidents = {
        _post(demo_server.base_url, admin_token, camera, i, start + timedelta(seconds=i))
        for i, camera in enumerate(["e2e-tl-a"] * 8)
    }
    assert len(incidents) == 1, "one person followed by one camera: one incident"
    (incident_id,) = incidents
    _task(
        demo_server.base_url, admin_token, incident_id, datetime.now(UTC) + timedelta(minutes=30, seconds=20)
    )

    page = context.new_page()
    login(page, demo_server.base_url, demo_server.password)
    wait_map_ready(page)
    panel = _open(page, incident_id)
    timeline = panel.get_by_test_id("timeline")

    # Korean: the opening, one folded line for the other seven events, the task in words.
    expect(timeline.locator('[data-kind="created"]')).to_contain_text(
        "상황 발생: e2e-tl-a 카메라의 첫 이벤트"
    )
    burst = timeline.locator('[data-kind="events"]')
    expect(burst).to_have_count(1)
    expect(burst.get_by_test_id("burst-summary")).to_contain_text("이벤트 +7건, 카메라 1대")
    expect(burst.get_by_test_id("burst-event")).to_have_count(7)
    expect(burst.get_by_test_id("burst-event").first).not_to_be_visible()  # folded until opened
    burst.get_by_test_id("burst-summary").click()
    expect(burst.get_by_test_id("burst-event").last).to_be_visible()
    expect(burst.get_by_test_id("burst-event").last).to_contain_text("e2e-tl-a 카메라 이벤트, 위험도")
    task_entry = timeline.locator('[data-kind="task.created"]')
    expect(task_entry).to_contain_text(
        re.compile(r"임무 부여: 현장 확인, 기한 30분 \d+초 후 \(\d\d:\d\d:\d\d KST\)")
    )
    expect(timeline.locator('[data-kind="share"]')).to_contain_text("공유 (임무 부여)")

    panel.get_by_test_id("action-acknowledged").click()
    state = timeline.locator('[data-kind="state"]')
    expect(state).to_contain_text(re.compile(r"신규 → 확인 \((\d+분 )?\d+초 만에\)"))
    expect(state.locator(".actor")).to_have_text("admin")
    expect(timeline.locator('[data-kind="created"] .actor')).to_have_text("시스템 (수집)")
    first_time = timeline.locator("time").first.inner_text()
    assert re.fullmatch(r"\d\d:\d\d:\d\d", first_time), first_time
    assert not MACHINE_NOISE.search(timeline.inner_text()), timeline.inner_text()
    timeline.scroll_into_view_if_needed()
    timeline.screenshot(path=str(doc_screenshots / "console-timeline-ko.png"))

    # English: the same entries, re-rendered.
    page.get_by_test_id("lang-toggle").click()
    expect(burst.get_by_test_id("burst-summary")).to_contain_text("+7 events, 1 camera")
    expect(timeline.locator('[data-kind="created"]')).to_contain_text(
        "Incident opened by the first event from camera e2e-tl-a"
    )
    expect(state).to_contain_text(re.compile(r"New → Acknowledged \(after (\d+ min )?\d+ s\)"))
    expect(task_entry).to_contain_text(
        re.compile(r"Task for .+: 현장 확인, due in 30 min \d+ s \(\d\d:\d\d:\d\d KST\)")
    )
    expect(timeline.locator('[data-kind="created"] .actor')).to_have_text("System (ingest)")
    assert not MACHINE_NOISE.search(timeline.inner_text()), timeline.inner_text()
    assert not re.search(r"[가-힣]", timeline.inner_text().replace("현장 확인", "")), timeline.inner_text()
    timeline.screenshot(path=str(doc_screenshots / "console-timeline-en.png"))
    # Regions, agencies and states in English too (no "Gangwon-do 고성군", no Korean agency list).
    expect(panel.locator("dd", has_text="Seoul Jung-gu")).to_have_count(1)
    agencies = page.get_by_test_id("filter-agency").locator("option").all_inner_texts()
    assert len(agencies) > 3 and not [a for a in agencies if re.search(r"[가-힣]", a)], agencies
    sigungu = page.get_by_test_id("filter-sigungu").locator("option").all_inner_texts()
    assert "Goseong-gun" in sigungu or any("Goseong-gun" in s for s in sigungu), sigungu[:20]
