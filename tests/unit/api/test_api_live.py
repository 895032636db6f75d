"""WebSocket incident stream and the broadcaster behind it."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from hwarang.api.app import create_app
from hwarang.api.live import CLOSE_TOO_SLOW, CLOSE_UNAUTHORIZED, IncidentBroadcaster
from hwarang.api.settings import ApiSettings
from hwarang.domain import Incident
from hwarang.hub.service import HubService
from tests.unit.api.api_support import bearer, make_message, message_json

pytestmark = pytest.mark.timeout(30)


def _post(client: TestClient, token: str, *tracks: int) -> None:
    for track in tracks:
        response = client.post(
            "/api/v1/events", json=message_json(make_message(track)), headers=bearer(token)
        )
        assert response.status_code == 201


def _connect(client: TestClient, token: str) -> WebSocketTestSession:
    return client.websocket_connect(f"/api/v1/ws?token={token}")


def _receive_incidents(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    messages = [ws.receive_json() for _ in range(count)]
    assert all(m["type"] == "incident" for m in messages), messages
    return messages


@pytest.mark.parametrize("query", ["", "?token=", "?token=garbage"])
def test_bad_or_missing_token_is_closed_with_4401(client: TestClient, query: str) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(f"/api/v1/ws{query}") as ws:
        ws.receive_json()

    assert closed.value.code == CLOSE_UNAUTHORIZED


def test_hello_then_live_incident_from_posted_event(client: TestClient, operator_token: str) -> None:
    _post(client, operator_token, 1)

    with _connect(client, operator_token) as ws:
        hello = ws.receive_json()
        _post(client, operator_token, 2)
        message = ws.receive_json()

    assert hello == {"schema_version": 1, "type": "hello", "last_seq": 1}
    assert message["type"] == "incident"
    assert message["seq"] == 2
    assert message["incident"]["seq"] == 2
    assert message["incident"]["event_ids"] == [str(make_message(2).event.id)]


def test_resume_replays_missed_incidents_in_order_then_live(client: TestClient, operator_token: str) -> None:
    _post(client, operator_token, 1, 2, 3, 4)

    with _connect(client, operator_token) as ws:
        assert ws.receive_json()["last_seq"] == 4
        ws.send_json({"type": "resume", "after_seq": 1})
        replayed = _receive_incidents(ws, 3)
        _post(client, operator_token, 5)
        live = _receive_incidents(ws, 1)

    assert [m["seq"] for m in replayed] == [2, 3, 4]
    assert [m["seq"] for m in live] == [5]


def test_live_duplicates_of_replayed_seqs_are_suppressed(
    app: FastAPI, client: TestClient, operator_token: str, hub: HubService
) -> None:
    _post(client, operator_token, 1, 2)
    already_replayed = hub.incidents.recent()[0]
    broadcaster = app.state.hwarang.broadcaster

    with _connect(client, operator_token) as ws:
        ws.receive_json()
        ws.send_json({"type": "resume", "after_seq": 0})
        replayed = _receive_incidents(ws, 2)
        broadcaster.publish(already_replayed)  # a late live copy of seq 2
        _post(client, operator_token, 3)
        after = _receive_incidents(ws, 1)

    assert [m["seq"] for m in replayed] == [1, 2]
    assert [m["seq"] for m in after] == [3]


def test_invalid_client_message_gets_error_and_connection_stays(
    client: TestClient, operator_token: str
) -> None:
    with _connect(client, operator_token) as ws:
        ws.receive_json()
        ws.send_json({"type": "resume", "after_seq": -5})
        error = ws.receive_json()
        ws.send_text("not json")
        error_2 = ws.receive_json()
        ws.send_json({"type": "ping"})
        pong = ws.receive_json()

    assert error["type"] == "error"
    assert "after_seq" in error["detail"]
    assert error_2["type"] == "error"
    assert pong["type"] == "pong"


def test_slow_client_is_disconnected_with_close_code(
    hub: HubService, settings: ApiSettings, operator_token: str
) -> None:
    app = create_app(hub, settings.model_copy(update={"ws_queue_size": 1}))
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "op1", "password": "operator-password-456"}
        ).json()["access_token"]
        _post(client, token, 1)
        incident = hub.incidents.recent()[0]
        broadcaster: IncidentBroadcaster = app.state.hwarang.broadcaster

        def burst() -> None:  # runs on the event loop: all fan-outs land before the sender runs
            for seq in range(10, 20):
                broadcaster.publish(incident.model_copy(update={"seq": seq}))

        with _connect(client, token) as ws:
            ws.receive_json()
            client.portal.call(burst)  # type: ignore[union-attr]
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(20):
                    ws.receive_json()

    assert closed.value.code == CLOSE_TOO_SLOW
    assert broadcaster.stats()["overflow_disconnects"] == 1


def _incident(hub: HubService) -> Incident:
    return hub.incidents.recent()[0]


async def test_broadcaster_fans_out_from_threads_and_drops_overflowing_client(
    client: TestClient, operator_token: str, hub: HubService
) -> None:
    _post(client, operator_token, 1)
    incident = _incident(hub)
    broadcaster = IncidentBroadcaster(queue_size=2)
    broadcaster.publish(incident)  # not attached yet: counted, not raised
    broadcaster.attach(asyncio.get_running_loop())
    fast, slow = broadcaster.connect(), broadcaster.connect()

    def publish_three() -> None:
        for seq in (5, 6, 7):
            broadcaster.publish(incident.model_copy(update={"seq": seq}))

    await asyncio.to_thread(publish_three)
    first = await asyncio.wait_for(fast.queue.get(), 5)
    assert isinstance(first, Incident)
    received = [first.seq]
    await asyncio.to_thread(publish_three)
    for _ in range(50):
        if slow.overflowed.is_set():
            break
        await asyncio.sleep(0.01)

    assert received == [5]
    assert slow.overflowed.is_set()
    assert fast.overflowed.is_set()  # it also stopped reading: 1 + 3 > 2
    stats = broadcaster.stats()
    assert stats["not_attached"] == 1
    assert stats["published"] == 7
    assert stats["overflow_disconnects"] == 2
    assert stats["clients"] == 0
    assert [getattr(slow.queue.get_nowait(), "seq", None) for _ in range(2)] == [5, 6]
