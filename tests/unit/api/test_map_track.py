"""``/api/v1/incidents/{id}/track``: an incident's tracks and event positions from its events."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.domain import (
    BoundingBox,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    Role,
    RuleKind,
    User,
    stable_event_id,
)
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.unit.api.api_support import ADMIN_PASSWORD, T0, TEST_SECRET, bearer, login
from tests.unit.api.sharing_support import AGENCIES, FAST_HASHER

PASSWORD = "track-password-123"
PATH = [(37.5729, 126.9794), (37.5731, 126.9797), (37.5734, 126.9801)]


def _message(track: int, second: int, position: tuple[float, float] | None) -> EventMessage:
    at = T0 + timedelta(seconds=second)
    event = Event(
        id=stable_event_id("cam-jongno", "gate", track, at),
        camera_id="cam-jongno",
        center_id="seoul-jongno",
        sido_code="11",
        sigungu_code="11110",
        occurred_at=at,
        object_class=ObjectClass.PERSON,
        confidence=0.9,
        box=BoundingBox(x1=10, y1=20, x2=60, y2=180),
        track_id=track,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="gate",
        geo=None if position is None else GeoPoint(lat=position[0], lon=position[1]),
        frame_index=second,
    )
    return EventMessage(event=event)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubService]:
    """A hub with fusion on (events of one track join one incident) and a Busan operator."""
    database = Database(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    database.migrate()
    service = HubService(
        database, EvidenceStore(tmp_path / "evidence"), password_hasher=FAST_HASHER, fusion=FusionConfig()
    )
    service.identity.ensure_admin(ADMIN_PASSWORD)
    service.identity.agencies.upsert(AGENCIES)
    busan = User(
        username="busan-op",
        display_name="busan-op",
        agency_code="busan-jung",
        jurisdiction_code="26110",
        roles=(Role.OPERATOR,),
    )
    service.identity.users.create(busan, PASSWORD)
    yield service
    database.close()


@pytest.fixture
def client(hub: HubService) -> Iterator[TestClient]:
    with TestClient(create_app(hub, ApiSettings(jwt_secret=SecretStr(TEST_SECRET)))) as test_client:
        yield test_client


def _ingest(hub: HubService, messages: list[EventMessage]) -> uuid.UUID:
    incidents = {result.incident.id for m in messages if (result := hub.ingest.event(m)).incident is not None}
    assert len(incidents) == 1, f"expected one incident, got {incidents}"
    return incidents.pop()


def test_track_is_a_line_through_the_event_positions_in_time_order(
    client: TestClient, hub: HubService
) -> None:
    # one object (track 7) seen three times, plus an event without a ground position
    messages = [_message(7, second, position) for second, position in zip((0, 2, 4), PATH, strict=True)]
    incident_id = _ingest(hub, [messages[2], messages[0], messages[1], _message(7, 6, None)])
    token = login(client, "admin", ADMIN_PASSWORD)

    response = client.get(f"/api/v1/incidents/{incident_id}/track", headers=bearer(token))
    features = response.json()["features"]

    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    lines = [f for f in features if f["geometry"]["type"] == "LineString"]
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    assert len(lines) == 1
    assert lines[0]["geometry"]["coordinates"] == [[lon, lat] for lat, lon in PATH]
    assert lines[0]["properties"] == {
        "track_key": "cam-jongno:7",
        "camera_id": "cam-jongno",
        "points": 3,
        "first_seen": "2025-03-01T12:00:00Z",
        "last_seen": "2025-03-01T12:00:04Z",
    }
    assert [p["properties"]["event_id"] for p in points] == [str(m.event.id) for m in messages]
    assert points[0]["properties"]["class"] == "person"
    assert points[0]["properties"]["time"] == "2025-03-01T12:00:00Z"


def test_track_without_positions_is_an_empty_collection(client: TestClient, hub: HubService) -> None:
    incident_id = _ingest(hub, [_message(8, 0, None), _message(8, 1, None)])
    token = login(client, "admin", ADMIN_PASSWORD)

    body = client.get(f"/api/v1/incidents/{incident_id}/track", headers=bearer(token)).json()

    assert body == {"type": "FeatureCollection", "features": []}


def test_track_of_an_incident_out_of_jurisdiction_is_403_and_unknown_is_404(
    client: TestClient, hub: HubService
) -> None:
    incident_id = _ingest(hub, [_message(9, 0, PATH[0])])
    busan = login(client, "busan-op", PASSWORD)
    admin = login(client, "admin", ADMIN_PASSWORD)

    hidden = client.get(f"/api/v1/incidents/{incident_id}/track", headers=bearer(busan))
    missing = client.get(f"/api/v1/incidents/{uuid.uuid4()}/track", headers=bearer(admin))
    malformed = client.get("/api/v1/incidents/not-a-uuid/track", headers=bearer(admin))

    assert hidden.status_code == 403 and "jurisdiction" in hidden.json()["detail"]
    assert missing.status_code == 404
    assert malformed.status_code == 422
    assert client.get(f"/api/v1/incidents/{incident_id}/track").status_code == 401
