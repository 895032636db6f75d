"""Issue #15's attacks, reproduced against a running hub (uvicorn on a loopback port) and refused.

The hub trusts 127.0.0.1 as its reverse proxy, so ``X-Forwarded-For`` stands for the attacker's
and the real user's addresses.
"""

import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.bus.server import free_port
from hwarang.domain import (
    Agency,
    AgencyKind,
    BoundingBox,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    Role,
    RuleKind,
    SnapshotRef,
    User,
    stable_event_id,
)
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import EventRow

pytestmark = pytest.mark.timeout(180)

PASSWORD = "attack-test-password-1"
ADMIN_PASSWORD = "attack-admin-password-1"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GRANTED, NEIGHBOUR = "11110", "11140"
AGENCIES = (
    Agency(code="seoul-jongno", name="종로구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code=GRANTED),
    Agency(code="seoul-jung", name="중구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code=NEIGHBOUR),
    Agency(code="army-cdc", name="수도방위사령부", kind=AgencyKind.MILITARY, jurisdiction_code="11"),
    Agency(code="police-seoul", name="서울경찰청", kind=AgencyKind.POLICE, jurisdiction_code="11"),
)
USERS = (
    ("jongno-op", "seoul-jongno", GRANTED, Role.OPERATOR),
    ("jongno-head", "seoul-jongno", GRANTED, Role.HEAD_OF_LOCAL_GOVERNMENT),
    ("army-op", "army-cdc", "11", Role.OPERATOR),
    ("army-cmd", "army-cdc", "11", Role.COMMANDER),
    ("police-op", "police-seoul", "11", Role.OPERATOR),
    ("police-cmd", "police-seoul", "11", Role.COMMANDER),
    ("evaluator", "seoul-jongno", GRANTED, Role.EVALUATOR),
)


@dataclass
class Hub:
    url: str
    service: HubService
    port: int

    def client(self, address: str = "192.0.2.10") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Forwarded-For": address}, timeout=30)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    root: Path = tmp_path_factory.mktemp("attacks")
    database = Database(f"sqlite:///{root / 'hub.sqlite3'}")
    database.migrate()
    service = HubService(
        database,
        EvidenceStore(root / "evidence"),
        password_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )
    service.identity.ensure_admin(ADMIN_PASSWORD)
    service.identity.agencies.upsert(AGENCIES)
    for name, agency, area, role in USERS:
        user = User(
            username=name, display_name=name, agency_code=agency, jurisdiction_code=area, roles=(role,)
        )
        service.identity.users.create(user, PASSWORD)
    settings = ApiSettings(
        jwt_secret=SecretStr("attack-signing-key-" + "k" * 32), trusted_proxies=("127.0.0.1",)
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(service, settings), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("hub did not start")
        time.sleep(0.05)
    try:
        yield Hub(f"http://127.0.0.1:{port}", service, port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        database.close()


def _token(hub: Hub, username: str, password: str = PASSWORD) -> dict[str, str]:
    with hub.client("198.18.0.1") as client:
        response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _event(
    track: int, *, center: str, sigungu: str, jpeg: bytes | None, sha256: str | None = None
) -> dict[str, Any]:
    at = T0 + timedelta(minutes=track)
    digest = sha256 or (hashlib.sha256(jpeg).hexdigest() if jpeg else None)
    camera = f"cam-{center}"
    event = Event(
        id=stable_event_id(camera, "gate", track, at),
        camera_id=camera,
        center_id=center,
        sido_code=sigungu[:2],
        sigungu_code=sigungu,
        occurred_at=at,
        object_class=ObjectClass.PERSON,
        confidence=0.9,
        box=BoundingBox(x1=10, y1=20, x2=60, y2=180),
        track_id=track,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="gate",
        geo=GeoPoint(lat=37.57, lon=126.98),
        snapshot=None if digest is None else SnapshotRef(sha256=digest, width=640, height=480),
        frame_index=track,
    )
    body: dict[str, Any] = EventMessage(event=event, snapshot_jpeg=jpeg).model_dump(mode="json")
    return body


def _post_event(hub: Hub, auth: dict[str, str], body: dict[str, Any]) -> str:
    with hub.client() as client:
        response = client.post("/api/v1/events", json=body, headers=auth)
    assert response.status_code in (200, 201), response.text
    return str(body["event"]["id"])


def _incident_of(hub: Hub, event_id: str) -> str:
    with hub.service.database.session() as session:
        row = session.get(EventRow, uuid.UUID(event_id))
        assert row is not None and row.incident_id is not None
        return str(row.incident_id)


def _declare_and_approve(hub: Hub, area: str) -> str:
    army = _token(hub, "army-cmd")
    body = {
        "kind": "alert_level",
        "alert_level": 2,
        "area_codes": [area],
        "reason": "경계태세 2급",
        "expires_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
    }
    with hub.client() as client:
        declared = client.post("/api/v1/conditions", json=body, headers=army)
        assert declared.status_code == 201 and declared.json()["status"] == "awaiting_approval"
        condition = str(declared.json()["condition"]["id"])
        approved = client.post(f"/api/v1/conditions/{condition}/approve", headers=_token(hub, "jongno-head"))
        assert approved.status_code == 200, approved.text
    return condition


def _lift(hub: Hub, condition: str) -> None:
    with hub.client() as client:
        lifted = client.post(f"/api/v1/conditions/{condition}/lift", headers=_token(hub, "army-cmd"))
    assert lifted.status_code == 200


def test_snapshot_hash_does_not_stretch_a_grant(hub: Hub) -> None:
    admin = _token(hub, "admin", ADMIN_PASSWORD)
    jpeg = b"\xff\xd8\xff\xe0" + hashlib.sha256(b"neighbour").digest() * 32 + b"\xff\xd9"
    sha = hashlib.sha256(jpeg).hexdigest()
    _post_event(hub, admin, _event(1, center="seoul-jung", sigungu=NEIGHBOUR, jpeg=jpeg))
    condition = _declare_and_approve(hub, GRANTED)
    army = _token(hub, "army-op")
    try:
        with hub.client() as client:
            assert client.get(f"/api/v1/snapshots/{sha}", headers=army).status_code == 403
            forged = _event(2, center="seoul-jongno", sigungu=GRANTED, jpeg=None, sha256=sha)
            # the army may not post for a municipal center at all (events are bound to the poster)
            assert client.post("/api/v1/events", json=forged, headers=army).status_code == 403
            # and even a center's own event that names the neighbour's hash grants nothing
            forged = _event(3, center="seoul-jongno", sigungu=GRANTED, jpeg=None, sha256=sha)
            assert client.post("/api/v1/events", json=forged, headers=admin).status_code in (200, 201)
            refused = client.get(f"/api/v1/snapshots/{sha}", headers=army)
            assert refused.status_code == 403 and NEIGHBOUR not in refused.text
            views = [e for e in hub.service.audit.entries(200, action="evidence.view") if sha in e.target]
            assert views == []
    finally:
        _lift(hub, condition)


def test_commander_cannot_declare_beyond_authority(hub: Hub) -> None:
    body = {
        "kind": "terror",
        "area_codes": ["11"],
        "reason": "테러",
        "expires_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
    }
    with hub.client() as client:
        police = client.post("/api/v1/conditions", json=body, headers=_token(hub, "police-cmd"))
        assert police.status_code == 403 and "terror conditions are declared by" in police.json()["detail"]
        gangwon = {**body, "kind": "alert_level", "alert_level": 2, "area_codes": ["42"]}
        army = client.post("/api/v1/conditions", json=gangwon, headers=_token(hub, "army-cmd"))
        assert army.status_code == 403


def test_grant_is_not_used_before_approval_and_track_needs_evidence(hub: Hub) -> None:
    admin = _token(hub, "admin", ADMIN_PASSWORD)
    jpeg = b"\xff\xd8\xff\xe0" + hashlib.sha256(b"jongno").digest() * 32 + b"\xff\xd9"
    event_id = _post_event(hub, admin, _event(10, center="seoul-jongno", sigungu=GRANTED, jpeg=jpeg))
    incident = _incident_of(hub, event_id)
    sha = hashlib.sha256(jpeg).hexdigest()
    body = {
        "kind": "alert_level",
        "alert_level": 2,
        "area_codes": [GRANTED],
        "reason": "경계태세 2급",
        "expires_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
    }
    army = _token(hub, "army-op")
    with hub.client() as client:
        assert client.get(f"/api/v1/incidents/{incident}/track", headers=army).status_code == 403
        assert (
            client.get(f"/api/v1/incidents/{incident}/track", headers=_token(hub, "evaluator")).status_code
            == 403
        )
        declared = client.post("/api/v1/conditions", json=body, headers=_token(hub, "army-cmd"))
        assert declared.status_code == 201 and declared.json()["status"] == "awaiting_approval"
        assert client.get(f"/api/v1/snapshots/{sha}", headers=army).status_code == 403
        assert client.get(f"/api/v1/incidents/{incident}/track", headers=army).status_code == 403
        condition = declared.json()["condition"]["id"]
        assert (
            client.post(
                f"/api/v1/conditions/{condition}/approve", headers=_token(hub, "jongno-head")
            ).status_code
            == 200
        )
        assert client.get(f"/api/v1/snapshots/{sha}", headers=army).status_code == 200
        assert client.get(f"/api/v1/incidents/{incident}/track", headers=army).status_code == 200
    _lift(hub, condition)


def test_partner_cannot_close_the_centers_incident_but_works_its_task(hub: Hub) -> None:
    admin = _token(hub, "admin", ADMIN_PASSWORD)
    event_id = _post_event(hub, admin, _event(20, center="seoul-jongno", sigungu=GRANTED, jpeg=None))
    incident = _incident_of(hub, event_id)
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    police = _token(hub, "police-op")
    with hub.client() as client:
        task = client.post(
            f"/api/v1/incidents/{incident}/tasks",
            json={"agency_code": "police-seoul", "title": "Check the gate", "due_at": due},
            headers=_token(hub, "jongno-op"),
        )
        assert task.status_code == 201, task.text
        task_id = task.json()["id"]
        close = client.post(
            f"/api/v1/incidents/{incident}/transitions",
            json={"to": "false_alarm", "reason": "x"},
            headers=police,
        )
        assert close.status_code == 403
        ack = client.post(f"/api/v1/tasks/{task_id}/state", json={"state": "acknowledged"}, headers=police)
        assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"


def test_fast_logins_from_one_address_are_throttled_the_real_user_gets_in(hub: Hub) -> None:
    real = hub.client("192.0.2.200")
    assert (
        real.post("/api/v1/auth/token", data={"username": "jongno-op", "password": PASSWORD}).status_code
        == 200
    )
    codes = []
    started = time.monotonic()
    with hub.client("203.0.113.50") as attacker:
        for i in range(50):
            answer = attacker.post(
                "/api/v1/auth/token", data={"username": "jongno-op", "password": f"guess-{i:06d}"}
            )
            codes.append(answer.status_code)
    assert time.monotonic() - started < 60
    assert 429 in codes[:20], codes
    assert (
        real.post("/api/v1/auth/token", data={"username": "jongno-op", "password": PASSWORD}).status_code
        == 200
    )
    real.close()
    records = hub.service.audit.entries(500, action="auth.login_failed")
    assert any(r.detail.get("client") == "203.0.113.50" for r in records)


def test_nul_bytes_and_huge_integers_are_422(hub: Hub) -> None:
    admin = _token(hub, "admin", ADMIN_PASSWORD)
    with hub.client("192.0.2.77") as client:
        login = client.post("/api/v1/auth/token", data={"username": "adm\x00in", "password": "x"})
        assert login.status_code == 422 and login.headers["X-Content-Type-Options"] == "nosniff"
        audit = client.get("/api/v1/audit?before_id=99999999999999999999999", headers=admin)
        assert audit.status_code == 422 and "before_id" in audit.json()["message"]
        assert audit.headers["Content-Security-Policy"]
        body = _event(30, center="seoul-jongno", sigungu=GRANTED, jpeg=None)
        body["event"]["track_id"] = 10**30
        huge = client.post("/api/v1/events", json=body, headers=admin)
        assert huge.status_code == 422 and "track_id" in huge.json()["message"]


def test_20mb_unauthenticated_body_is_refused_before_it_is_read(hub: Hub) -> None:
    size = 20 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", hub.port), timeout=10) as sock:
        head = (
            "POST /api/v1/events HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"{" * 1024)  # 1 KiB of the 20 MB: the answer comes anyway
        answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "x-frame-options: deny" in answer.lower()
