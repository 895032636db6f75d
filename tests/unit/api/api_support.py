"""Factories for API tests: events with snapshot bytes, logins, auth headers."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

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

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
ADMIN_PASSWORD = "admin-password-123"
OPERATOR_PASSWORD = "operator-password-456"
VIEWER_PASSWORD = "viewer-password-789"
TEST_SECRET = "test-signing-key-" + "k" * 32


def jpeg_bytes(seed: int) -> bytes:
    """Deterministic bytes framed like a JPEG (the hub never decodes them)."""
    return b"\xff\xd8\xff\xe0" + hashlib.sha256(str(seed).encode()).digest() * 16 + b"\xff\xd9"


def make_message(track_id: int = 1, *, snapshot: bool = False, exercise: bool = False) -> EventMessage:
    """A valid EventMessage; the same ``track_id`` always yields the same event id."""
    occurred_at = T0 + timedelta(seconds=track_id)
    data = jpeg_bytes(track_id) if snapshot else None
    ref = None
    if data is not None:
        ref = SnapshotRef(sha256=hashlib.sha256(data).hexdigest(), width=640, height=480)
    event = Event(
        id=stable_event_id("cam-01", "fence-north", track_id, occurred_at),
        camera_id="cam-01",
        center_id="seoul-jung",
        sido_code="11",
        sigungu_code="11140",
        occurred_at=occurred_at,
        object_class=ObjectClass.PERSON,
        confidence=0.9,
        box=BoundingBox(x1=10, y1=20, x2=60, y2=180),
        track_id=track_id,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="fence-north",
        geo=GeoPoint(lat=37.5636, lon=126.9976),
        snapshot=ref,
        frame_index=track_id,
        exercise=exercise,
    )
    return EventMessage(event=event, snapshot_jpeg=data)


def message_json(message: EventMessage) -> dict[str, Any]:
    """The JSON body an edge would POST."""
    body: dict[str, Any] = message.model_dump(mode="json")
    return body


def login(client: TestClient, username: str, password: str) -> str:
    """Log in through the API and return the access token (fails the test otherwise)."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    if response.status_code != 200:
        raise AssertionError(f"login of {username} failed: {response.status_code} {response.text}")
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}
