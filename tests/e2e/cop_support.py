"""Helpers for the situation-room tests: log in through the API and inject events like an edge would."""

import hashlib
import json
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from playwright.sync_api import Page

from hwarang.domain import (
    BoundingBox,
    DetectorInfo,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    RuleKind,
    SnapshotRef,
    stable_event_id,
)


@dataclass(frozen=True)
class Place:
    """Where an injected event happens: a local government and a point inside it."""

    sigungu_code: str
    lat: float
    lon: float


PLACES = (
    Place("11110", 37.5729, 126.9794),  # Seoul Jongno
    Place("26110", 35.1064, 129.0323),  # Busan Jung
    Place("30170", 36.3553, 127.3838),  # Daejeon Seo
    Place("29110", 35.1460, 126.9230),  # Gwangju Dong
    Place("50110", 33.4996, 126.5312),  # Jeju City
    Place("47111", 36.0190, 129.3435),  # Pohang Nam
)


SITE_ZONE = ZoneInfo("Asia/Seoul")
"""The demo site's time zone, in which the severity policy's night (19:00-06:00) is read."""


def night_time(now: datetime | None = None) -> datetime:
    """An instant in the demo policy's night: ``now`` if it is night in Seoul, else 05:30 this morning.

    An ordinary intrusion is "medium" by day and "high" by night; tests that need a high incident
    must not depend on the hour the suite runs at.
    """
    now = now or datetime.now(UTC)
    local = now.astimezone(SITE_ZONE)
    if local.hour >= 19 or local.hour < 6:
        return now
    return local.replace(hour=5, minute=30, second=0, microsecond=0).astimezone(UTC)


def api_token(base_url: str, password: str, username: str = "admin") -> str:
    """An access token from POST /api/v1/auth/token."""
    body = urllib.parse.urlencode({"username": username, "password": password}).encode()
    with urllib.request.urlopen(f"{base_url}/api/v1/auth/token", data=body, timeout=10) as response:
        return str(json.load(response)["access_token"])


def snapshot_jpeg(seed: int, width: int = 320, height: int = 240) -> bytes:
    """A real JPEG (a browser decodes it): a coloured frame with a box, different per seed."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = (40 + seed * 37 % 160, 80, 120)
    cv2.rectangle(image, (60, 50), (140 + seed % 50, 200), (0, 0, 255), 3)
    ok, encoded = cv2.imencode(".jpg", image)
    if not ok:
        raise RuntimeError("could not encode the test snapshot")
    return encoded.tobytes()


def inject_event(
    base_url: str,
    token: str,
    place: Place,
    *,
    seed: int,
    occurred_at: datetime | None = None,
    detector: DetectorInfo | None = None,
) -> uuid.UUID:
    """POST /api/v1/events (what an edge sends) near ``place``; returns its new incident's id.

    Each seed gets its own camera and a point about 450 m from any other seed's.
    """
    at = occurred_at or datetime.now(UTC)
    data = snapshot_jpeg(seed)
    camera_id = f"e2e-cop-{place.sigungu_code}-{seed}"
    # ~450 m apart per seed: farther than fusion's 150 m, so every seed makes its own incident.
    lat, lon = place.lat + 0.004 * (seed % 25), place.lon + 0.004 * (seed // 25 % 25)
    event = Event(
        id=stable_event_id(camera_id, "e2e", seed, at),
        camera_id=camera_id,
        center_id=f"e2e-center-{place.sigungu_code}",
        sido_code=place.sigungu_code[:2],
        sigungu_code=place.sigungu_code,
        occurred_at=at,
        object_class=ObjectClass.PERSON,
        confidence=0.92,
        box=BoundingBox(x1=60, y1=50, x2=140, y2=200),
        track_id=seed,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="e2e",
        geo=GeoPoint(lat=lat, lon=lon),
        snapshot=SnapshotRef(sha256=hashlib.sha256(data).hexdigest(), width=320, height=240),
        frame_index=seed,
        detector=detector,
    )
    payload = EventMessage(event=event, snapshot_jpeg=data).model_dump_json().encode()
    request = urllib.request.Request(
        f"{base_url}/api/v1/events",
        data=payload,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    if answer["incident_id"] is None:
        raise RuntimeError(f"event {event.id} made no incident: {answer}")
    return uuid.UUID(answer["incident_id"])


def login(page: Page, base_url: str, password: str, username: str = "admin") -> None:
    """Fill and submit the login form."""
    page.goto(base_url + "/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def wait_map_ready(page: Page, timeout_ms: int = 20000) -> None:
    """The contract's readiness signal: layers loaded and the map rendered once."""
    page.wait_for_function("() => document.documentElement.dataset.mapReady === '1'", timeout=timeout_ms)


ON_MAP = """(id) => !!window.hwarangMap && window.hwarangMap
    .queryRenderedFeatures({ layers: ['incidents'] }).some((f) => f.properties.id === id)"""
"""Page function: is this incident drawn on the map's incidents layer (rendered, not just in the source)?"""
