"""The demo runs the real detector: its incidents' events name the NanoDet model and its SHA-256."""

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hwarang.edge.models import ModelStore
from tests.e2e.cop_support import api_token
from tests.e2e.demo_support import DemoServer

pytestmark = pytest.mark.e2e

VTEST_CAMERA = "icn-harbour-plaza-01"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _get(base_url: str, token: str, path: str) -> Any:
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_demo_incidents_carry_the_detector_model(demo_server: DemoServer) -> None:
    card = ModelStore(REPO_ROOT / "var" / "models").get("nanodet").card  # `make models` put it there
    token = api_token(demo_server.base_url, demo_server.password)
    deadline = time.monotonic() + 60.0
    incidents: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not incidents:
        found = _get(demo_server.base_url, token, "/api/v1/incidents?limit=200")
        incidents = [i for i in found if i["camera_id"] == VTEST_CAMERA and i["event_ids"]]
        if not incidents:
            time.sleep(0.5)
    assert incidents, "no incident from the PETS camera within 60 s"

    for incident in incidents[:5]:
        event = _get(demo_server.base_url, token, f"/api/v1/events/{incident['event_ids'][0]}")
        assert event["detector"] == {
            "kind": "model",
            "plugin": "onnx-nanodet",
            "model": "nanodet",
            "sha256": card.sha256,
        }
    log = demo_server.log_path.read_text(encoding="utf-8", errors="replace")
    assert f"model nanodet, sha256 {card.sha256}" in log
