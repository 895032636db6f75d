"""Calling for attention: a new incident at or above the chosen severity plays a tone generated in
the page (WebAudio) and raises a desktop notification; one below it stays quiet."""

# Named test_shift_*: collected after test_demo_live_page, whose 30 s deadline counts from
# the shared demo's start.

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hwarang.domain import DetectorInfo
from tests.e2e.cop_support import Place, inject_event, login, night_time, wait_map_ready
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

CHEONGJU = Place("43111", 36.6424, 127.4890)  # a place no other browser test counts incidents in

RECORDERS = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) {
    window.__notes.push({ title, body: options && options.body, tag: options && options.tag });
  }
  static get permission() { return 'granted'; }
  static requestPermission() { return Promise.resolve('granted'); }
};
window.__tones = 0;
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
"""
"""Record what the page asks of the browser (the desktop notification and each oscillator tone)."""


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(RECORDERS)
    yield context
    context.close()


def _fired(page: Page) -> list[dict[str, object]]:
    fired: list[dict[str, object]] = page.evaluate("() => [...window.hwarangAlerts]")
    return fired


def test_a_new_high_incident_sounds_and_notifies_a_medium_one_does_not(
    context: BrowserContext, demo_server: DemoServer, admin_token: str
) -> None:
    page = context.new_page()
    login(page, demo_server.base_url, demo_server.password)
    wait_map_ready(page)
    page.get_by_test_id("alert-threshold").select_option("high")
    already = len(_fired(page))

    quiet = inject_event(
        demo_server.base_url, admin_token, CHEONGJU, seed=601, detector=DetectorInfo(kind="motion")
    )
    loud = inject_event(demo_server.base_url, admin_token, CHEONGJU, seed=602, occurred_at=night_time())
    row = page.locator(f'[data-testid="incident-row"][data-incident-id="{loud}"]')
    expect(row).to_have_attribute("data-severity", "high")
    expect(page.locator(f'[data-incident-id="{quiet}"]')).to_have_attribute("data-severity", "medium")
    page.wait_for_function("(id) => window.hwarangAlerts.some((a) => a.id === id)", arg=str(loud))

    mine = [a for a in _fired(page)[already:] if a["id"] in (str(loud), str(quiet))]
    assert mine == [
        {"id": str(loud), "severity": "high", "escalated": False, "sound": True, "notified": True}
    ]
    notes = page.evaluate("() => window.__notes")
    note = next(n for n in notes if n["tag"] == str(loud))
    assert note["title"] == "새 상황: 높음" and "구역 침입 (e2e)" in note["body"]
    assert page.evaluate("() => window.__tones") >= 3, "three tones from an oscillator"

    # A stricter choice: a new high incident no longer calls.
    page.get_by_test_id("alert-threshold").select_option("critical")
    later = inject_event(demo_server.base_url, admin_token, CHEONGJU, seed=603, occurred_at=night_time())
    expect(page.locator(f'[data-incident-id="{later}"]')).to_have_attribute("data-severity", "high")
    assert not [a for a in _fired(page) if a["id"] == str(later)]
    assert page.evaluate("() => localStorage.getItem('hwarang.alertAt')") == "critical"
