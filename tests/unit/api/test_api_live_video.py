"""Live view: leased fMP4 from an edge sender through the hub relay to an entitled user's WebSocket.

The edge is a real encoder (the clip ring's ``FrameEncoder``) feeding a :class:`LiveSender` on the
embedded demo's in-memory wire; the hub side is the app with a :class:`LiveRelay`.
"""

import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.bus.livewire import MemoryLiveWire
from hwarang.edge.frame import Frame
from hwarang.edge.live_sender import LiveSender
from hwarang.edge.media.clips import ClipConfig, FrameEncoder
from hwarang.hub.evidence.live_relay import LiveRelay
from hwarang.hub.service import HubService
from tests.unit.api.api_support import TEST_SECRET, make_message
from tests.unit.api.sharing_support import CAMERA_ID, World, open_condition_policy, open_hub, seed

pytestmark = pytest.mark.timeout(60)


class FakeCamera:
    """A synthetic camera: frames encoded like the clip ring's, each packet offered to the sender."""

    def __init__(self, sender: LiveSender) -> None:
        self._sender = sender
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.frames = 0

    def __enter__(self) -> "FakeCamera":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        encoder = FrameEncoder(ClipConfig(), 10.0)
        for index in range(1200):  # bounded: at most a minute of video
            if self._stop.wait(0.04):
                return
            image = np.zeros((240, 320, 3), np.uint8)
            image[:, : (index * 7) % 320] = (0, 160, 255)
            frame = Frame(image, index=index, pts_s=index / 10, wall_time=datetime.now(UTC))
            for packet in encoder.encode(frame):
                self._sender.add(packet, encoder.size)
            self.frames += 1


def _wait(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _receive_video(client: TestClient, url: str, messages: int) -> bytes:
    chunks: list[bytes] = []
    with client.websocket_connect(url) as ws:
        for _ in range(messages):
            chunks.append(ws.receive_bytes())
    return b"".join(chunks)


@pytest.fixture
def wire() -> MemoryLiveWire:
    return MemoryLiveWire()


@pytest.fixture
def sender(wire: MemoryLiveWire) -> Iterator[LiveSender]:
    live = LiveSender("cam-01", wire, 10.0, center_id=make_message(3).event.center_id, lease_s=1.5)
    yield live
    live.close()


@pytest.fixture
def app(hub: HubService, settings: ApiSettings, wire: MemoryLiveWire) -> FastAPI:
    return create_app(hub, settings, live_relay=LiveRelay(wire, renew_s=0.5))


def test_an_entitled_view_gets_decodable_fmp4_only_while_leased_and_is_audited(
    client: TestClient,
    hub: HubService,
    operator_token: str,
    wire: MemoryLiveWire,
    sender: LiveSender,
) -> None:
    hub.ingest.event(make_message(3))
    incident = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {operator_token}"})
    incident_id = incident.json()[0]["id"]
    url = f"/api/v1/incidents/{incident_id}/live?token={operator_token}"
    with FakeCamera(sender) as camera:
        _wait(lambda: camera.frames >= 15)
        assert wire.bytes_published() == 0 and not sender.leased  # nobody watches: no bytes

        data = _receive_video(client, url, 4)  # init segment + 3 fragments
        assert data[4:8] == b"ftyp"
        with av.open(io.BytesIO(data), "r") as container:
            decoded = len(list(container.decode(video=0)))
        assert decoded >= 10

        # A second viewer shares the same upstream and starts with the init segment.
        shared = _receive_video(client, url, 2)
        assert shared[4:8] == b"ftyp"

        _wait(lambda: len(hub.audit.entries(action="live.stop")) == 2)
        _wait(lambda: not sender.leased)  # the lease lapses once the last viewer left
        settled = wire.bytes_published()
        _wait(lambda: camera.frames >= 15 + 20, timeout_s=10)
        assert wire.bytes_published() == settled  # no viewer -> no bytes

    starts = hub.audit.entries(action="live.start")
    stops = hub.audit.entries(action="live.stop")
    assert [e.actor for e in starts] == ["op1", "op1"] and starts[0].target == "camera:cam-01"
    assert all(e.detail["bytes_sent"] > 0 for e in stops)
    health = client.get("/api/v1/health").json()["extra"]["live_video"]["cam-01"]
    assert health["viewers"] == 0 and health["views"] == 2 and health["bytes_sent"] > 0


def test_a_user_without_rights_gets_403_and_an_audited_refusal(
    client: TestClient, hub: HubService, operator_token: str, viewer_token: str
) -> None:
    hub.ingest.event(make_message(4))
    incident_id = client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {operator_token}"}
    ).json()[0]["id"]
    url = f"/api/v1/incidents/{incident_id}/live?token={viewer_token}"
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(url):
        pass
    assert refused.value.status_code == 403
    denied = hub.audit.entries(action="access.denied")
    assert [e.actor for e in denied] == ["viewer"] and denied[0].target == f"incident:{incident_id}"
    assert hub.audit.entries(action="live.start") == []


# -- law-gated: the army's view of a municipal camera ends when the condition is lifted ----------


@pytest.fixture
def world(tmp_path: Path) -> World:
    return seed(tmp_path / "hub", slots=1, with_workflow=False)


@pytest.fixture
def army_hub(world: World) -> Iterator[HubService]:
    service = open_hub(world.root, policy=open_condition_policy())  # grant mechanics, not who declares
    yield service
    service.database.close()


def test_the_army_view_ends_within_2_s_of_the_condition_lift(
    army_hub: HubService, world: World, wire: MemoryLiveWire
) -> None:
    relay = LiveRelay(wire, renew_s=0.5)
    app = create_app(army_hub, ApiSettings(jwt_secret=SecretStr(TEST_SECRET)), live_relay=relay)
    incident_id = world.incidents[0]
    incident = army_hub.incidents.get(incident_id)
    assert incident is not None
    live = LiveSender(incident.camera_id, wire, 10.0, center_id=incident.center_id, lease_s=1.5)
    with TestClient(app) as client, FakeCamera(live):
        tokens = client.app.state.hwarang.tokens  # type: ignore[attr-defined]
        army_user, commander_user = (army_hub.identity.users.get(n) for n in ("army", "commander-in"))
        assert army_user is not None and commander_user is not None
        army = tokens.issue(army_user)
        commander = {"Authorization": f"Bearer {tokens.issue(commander_user)}"}
        url = f"/api/v1/incidents/{incident_id}/live?token={army}"
        with pytest.raises(WebSocketDenialResponse), client.websocket_connect(url):
            pass
        declared = client.post("/api/v1/conditions", json=_condition(), headers=commander)
        assert declared.status_code == 201, declared.text
        with client.websocket_connect(url) as ws:
            assert ws.receive_bytes()[4:8] == b"ftyp"
            lifted = client.post(
                f"/api/v1/conditions/{declared.json()['condition']['id']}/lift", headers=commander
            )
            assert lifted.status_code == 200
            lifted_at = time.monotonic()
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(200):
                    ws.receive_bytes()
            ended_after = time.monotonic() - lifted_at
        assert closed.value.code == 4403
        assert ended_after < 2.0
    live.close()
    stop = army_hub.audit.entries(action="live.stop")
    assert len(stop) == 1 and stop[0].actor == "army" and stop[0].detail["reason"].startswith("access ended")


def _condition() -> dict[str, Any]:
    return {
        "kind": "alert_level",
        "alert_level": 2,
        "area_codes": ["11"],
        "reason": "경계태세 2급 발령, 수도권",
        "expires_at": (datetime.now(UTC) + timedelta(hours=6)).isoformat(),
    }


# -- from the map: /cameras/{id}/live takes the same decision on the camera's area ---------------


def test_the_map_view_of_a_camera_is_law_gated_audited_and_ends_with_the_condition(
    army_hub: HubService, world: World, wire: MemoryLiveWire
) -> None:
    relay = LiveRelay(wire, renew_s=0.5)
    app = create_app(army_hub, ApiSettings(jwt_secret=SecretStr(TEST_SECRET)), live_relay=relay)
    live = LiveSender(CAMERA_ID, wire, 10.0, center_id="seoul-jongno", lease_s=1.5)
    with TestClient(app) as client, FakeCamera(live):
        tokens = client.app.state.hwarang.tokens  # type: ignore[attr-defined]
        users = {
            n: army_hub.identity.users.get(n) for n in ("army", "commander-in", "operator-in", "operator-out")
        }
        token = {n: tokens.issue(u) for n, u in users.items() if u is not None}
        commander = {"Authorization": f"Bearer {token['commander-in']}"}
        url = f"/api/v1/cameras/{CAMERA_ID}/live?token="

        for refused_user in ("army", "operator-out"):  # no grant yet; outside the jurisdiction
            with (
                pytest.raises(WebSocketDenialResponse) as refused,
                client.websocket_connect(url + token[refused_user]),
            ):
                pass
            assert refused.value.status_code == 403
        denied = army_hub.audit.entries(action="access.denied")
        assert sorted(e.actor for e in denied) == ["army", "operator-out"]
        assert {e.target for e in denied} == {f"camera:{CAMERA_ID}"}
        with (
            pytest.raises(WebSocketDenialResponse) as missing,
            client.websocket_connect(f"/api/v1/cameras/no-such-camera/live?token={token['operator-in']}"),
        ):
            pass
        assert missing.value.status_code == 404

        with client.websocket_connect(url + token["operator-in"]) as ws:  # the owning center
            assert ws.receive_bytes()[4:8] == b"ftyp"
            assert ws.receive_bytes()[4:8] == b"moof"

        declared = client.post("/api/v1/conditions", json=_condition(), headers=commander)
        assert declared.status_code == 201, declared.text
        with client.websocket_connect(url + token["army"]) as ws:
            assert ws.receive_bytes()[4:8] == b"ftyp"
            lifted = client.post(
                f"/api/v1/conditions/{declared.json()['condition']['id']}/lift", headers=commander
            )
            assert lifted.status_code == 200
            lifted_at = time.monotonic()
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(200):
                    ws.receive_bytes()
            ended_after = time.monotonic() - lifted_at
        assert closed.value.code == 4403 and ended_after < 2.0
    live.close()
    starts = army_hub.audit.entries(action="live.start")
    assert sorted(e.actor for e in starts) == ["army", "operator-in"]
    assert {e.target for e in starts} == {f"camera:{CAMERA_ID}"}
    assert all("incident_id" not in e.detail for e in starts)
    _wait(lambda: len(army_hub.audit.entries(action="live.stop")) == 2)
    stops = {e.actor: e for e in army_hub.audit.entries(action="live.stop")}
    assert stops["army"].detail["reason"].startswith("access ended")
    assert stops["operator-in"].detail["bytes_sent"] > 0
    uses = army_hub.audit.entries(action="grant.use")
    assert [e.detail["target"] for e in uses if e.actor == "army"] == [f"camera:{CAMERA_ID}"]
