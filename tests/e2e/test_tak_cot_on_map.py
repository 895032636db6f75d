"""CoT in, end to end: a registered TAK client's position appears on the map within 2 s.

A demo hub runs with a TAK feed for one local government whose registered client uid is
``ANDROID-e2e-1``. The client connects over TCP, sends its position as CoT XML, and the browser's
drone layer shows it as a friendly unit; a position from an unregistered uid is refused, audited
and never drawn.
"""

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from hwarang.config.loader import default_config_text
from tests.e2e.cop_support import api_token, login, wait_map_ready
from tests.e2e.demo_support import DemoServer, free_port, running_demo

REGISTERED = "ANDROID-e2e-1"
STRANGER = "ANDROID-stranger"
HAS_TRACK = """(uid) => {
  const source = window.hwarangMap && window.hwarangMap.getSource('drones');
  return !!source && JSON.stringify(source.serialize().data).includes('tak:' + uid);
}"""


def _cot(uid: str, lat: float, lon: float) -> bytes:
    now = datetime.now(UTC)
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (
        f'<?xml version="1.0"?><event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" '
        f'time="{now.strftime(stamp)}" start="{now.strftime(stamp)}" '
        f'stale="{(now + timedelta(minutes=5)).strftime(stamp)}">'
        f'<point lat="{lat}" lon="{lon}" hae="12.0" ce="5.0" le="9999999.0"/>'
        f'<detail><contact callsign="{uid}"/></detail></event>'
    ).encode()


@pytest.fixture(scope="module")
def tak_demo(tmp_path_factory: pytest.TempPathFactory, vtest_path: Path) -> Iterator[tuple[DemoServer, int]]:
    tak_port = free_port()
    data_dir = tmp_path_factory.mktemp("tak-demo")
    feed = (
        "hub:\n  tak_feeds:\n    - agency: incheon-junggu-cc\n"
        f"      port: {tak_port}\n      registered_uids: [{REGISTERED}]\n"
    )
    config = data_dir / "site.yaml"
    config.write_text(default_config_text().replace("hub:\n", feed, 1), encoding="utf-8")
    with running_demo(data_dir, vtest_path, config=config) as server:
        yield server, tak_port


def test_registered_tak_position_is_on_the_map_within_2_s(
    tak_demo: tuple[DemoServer, int], browser: Browser
) -> None:
    server, tak_port = tak_demo
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        login(page, server.base_url, server.password)
        wait_map_ready(page)
        page.wait_for_function(
            "() => document.documentElement.dataset.dronesLayer === 'shown'", timeout=10000
        )
        with socket.create_connection(("127.0.0.1", tak_port), timeout=5) as client:
            client.sendall(_cot(STRANGER, 37.47, 126.62))
            sent = time.monotonic()
            client.sendall(_cot(REGISTERED, 37.4739, 126.6166))
            page.wait_for_function(HAS_TRACK, arg=REGISTERED, timeout=2000)
            elapsed = time.monotonic() - sent
        assert elapsed < 2.0
        assert not page.evaluate(HAS_TRACK, STRANGER)
    finally:
        context.close()
    token = api_token(server.base_url, server.password)
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/audit?action=interop.cot.refused",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        refused = json.loads(response.read())
    assert [(r["target"], r["detail"]["uid"]) for r in refused] == [(f"cot:{STRANGER}", STRANGER)]
