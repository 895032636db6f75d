"""Factories and fixtures for hub tests (imported by the hub conftest files)."""

import hashlib
import os
import uuid
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from hwarang.domain import (
    BoundingBox,
    Camera,
    Event,
    EventMessage,
    GeoPoint,
    Incident,
    ObjectClass,
    RuleKind,
    SnapshotRef,
    stable_event_id,
)
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.fuser import EventFuser
from hwarang.hub.fusion.ingest import IngestService
from hwarang.hub.fusion.labels import CameraLabels
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

# Cheap argon2 parameters so tests stay fast; production uses argon2-cffi's defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def jpeg_bytes(seed: int = 0, size: int = 2048) -> bytes:
    """Deterministic bytes framed like a JPEG (SOI ... EOI); the hub never decodes them."""
    body = hashlib.sha256(str(seed).encode()).digest() * (size // 32)
    return b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"


def make_event(
    *,
    track_id: int = 1,
    camera_id: str = "cam-01",
    occurred_at: datetime = T0,
    object_class: ObjectClass = ObjectClass.PERSON,
    rule: RuleKind = RuleKind.ZONE_INTRUSION,
    snapshot: bytes | None = None,
    exercise: bool = False,
    sido_code: str = "11",
    **overrides: Any,
) -> Event:
    """A valid Event; its id is stable for the same camera, rule, track and time."""
    rule_name = overrides.pop("rule_name", "fence-north")
    ref = None
    if snapshot is not None:
        ref = SnapshotRef(sha256=hashlib.sha256(snapshot).hexdigest(), width=640, height=480)
    fields: dict[str, Any] = {
        "id": stable_event_id(camera_id, rule_name, track_id, occurred_at),
        "camera_id": camera_id,
        "center_id": "seoul-jung",
        "sido_code": sido_code,
        "sigungu_code": f"{sido_code}140",
        "occurred_at": occurred_at,
        "object_class": object_class,
        "confidence": 0.87,
        "box": BoundingBox(x1=10, y1=20, x2=60, y2=180),
        "track_id": track_id,
        "rule": rule,
        "rule_name": rule_name,
        "geo": GeoPoint(lat=37.5636, lon=126.9976),
        "snapshot": ref,
        "frame_index": 42 + track_id,
        "exercise": exercise,
    }
    fields.update(overrides)
    return Event(**fields)


def make_message(*, with_snapshot: bool = True, seed: int = 0, **event_kw: Any) -> EventMessage:
    """An EventMessage, by default carrying snapshot bytes that match its reference."""
    data = jpeg_bytes(seed) if with_snapshot else None
    return EventMessage(event=make_event(snapshot=data, **event_kw), snapshot_jpeg=data)


def new_incident(service: HubService, message: EventMessage) -> Incident:
    """Ingest ``message`` and return the incident it created (fails the test on a duplicate)."""
    result = service.ingest.event(message)
    if result.incident is None:
        pytest.fail(f"event {message.event.id} was unexpectedly a duplicate")
    return result.incident


def make_camera(camera_id: str = "cam-01", name: str = "North gate") -> Camera:
    """A camera in Seoul Jung-gu."""
    return Camera(
        id=camera_id,
        center_id="seoul-jung",
        name=name,
        position=GeoPoint(lat=37.5636, lon=126.9976),
        sido_code="11",
        sigungu_code="11140",
    )


def times(n: int, step_s: float = 10.0) -> list[datetime]:
    """``n`` increasing aware datetimes from T0."""
    return [T0 + timedelta(seconds=i * step_s) for i in range(n)]


def pg_base_url() -> str:
    """The test PostgreSQL URL (env HWARANG_TEST_PG_URL, default the local trust-auth server)."""
    return os.environ.get("HWARANG_TEST_PG_URL", DEFAULT_PG_URL)


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _ensure_postgis(admin: psycopg.Connection[Any]) -> None:
    """Enable PostGIS in ``public`` of the test database (the tests connect as a superuser)."""
    try:
        admin.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
    except psycopg.errors.UniqueViolation:
        pass  # created by a concurrent test process meanwhile
    except psycopg.Error as exc:
        pytest.fail(
            f"cannot enable PostGIS in the test database ({str(exc).strip()}): "
            "install Debian's postgresql-15-postgis-3 ('make services' does it as root)",
            pytrace=False,
        )


def pg_schema_url() -> Generator[str, None, None]:
    """Create a fresh schema, yield a URL whose search_path is that schema then public, drop it afterwards.

    PostGIS lives in ``public`` so dropping a test schema never drops the extension.
    """
    base = pg_base_url()
    schema = f"hwarang_test_{uuid.uuid4().hex[:12]}"
    problem = ""
    try:
        admin = psycopg.connect(_psycopg_dsn(base), autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        problem = str(exc).strip()
    if problem:
        masked = make_url(base).render_as_string(hide_password=True)
        pytest.fail(
            f"PostgreSQL is not reachable at {masked} ({problem}). Start PostgreSQL 15 there "
            "or point HWARANG_TEST_PG_URL at a server; these tests must not be skipped.",
            pytrace=False,
        )
    with admin:
        _ensure_postgis(admin)
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(base).update_query_dict({"options": f"-csearch_path={schema},public"})
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL under ``tmp_path``."""
    return f"sqlite:///{tmp_path / 'hub.sqlite3'}"


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in a temporary file."""
    db = Database(sqlite_url(tmp_path))
    db.migrate()
    yield db
    db.close()


@pytest.fixture
def evidence(tmp_path: Path) -> EvidenceStore:
    """An empty evidence store under ``tmp_path``."""
    return EvidenceStore(tmp_path / "evidence")


@pytest.fixture
def service(sqlite_db: Database, evidence: EvidenceStore) -> HubService:
    """A HubService over SQLite with cheap password hashing."""
    return HubService(sqlite_db, evidence, password_hasher=FAST_HASHER)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL on each engine (PostgreSQL in a fresh schema, dropped afterwards)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from pg_schema_url()


@pytest.fixture
def engine_db(engine_url: str) -> Iterator[Database]:
    """A migrated Database on each engine."""
    db = Database(engine_url)
    db.migrate()
    yield db
    db.close()


@pytest.fixture
def engine_service(engine_db: Database, evidence: EvidenceStore) -> HubService:
    """A HubService on each engine."""
    return HubService(engine_db, evidence, password_hasher=FAST_HASHER)


class IngestWrapper(IngestService):
    """An IngestService over another hub's database, journal and evidence (tests override its steps)."""

    def __init__(self, inner: HubService) -> None:
        super().__init__(inner.database, inner.journal, inner.evidence, EventFuser(None), CameraLabels())
