"""The hub store on SQLite and on a real PostgreSQL 15 (fresh schema per test)."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.ingest import IngestResult
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import Base
from hwarang.hub.store.postgis import include_object, register_geometry_reflection
from tests.hub_support import FAST_HASHER, jpeg_bytes, make_message, times

pytestmark = pytest.mark.integration

T = TypeVar("T")
TABLES = {"alembic_version", "audit_log", "cameras", "events", "hub_state", "incidents", "users"}


def _in_threads(n: int, fn: Callable[[int], T]) -> list[T]:
    """Run ``fn(i)`` in ``n`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(n)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


def test_migrate_creates_tables_and_twice_is_a_no_op(engine_url: str) -> None:
    db = Database(engine_url)
    try:
        db.migrate()
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        with db.session(write=True) as session:
            session.execute(text("UPDATE hub_state SET last_seq = 41"))
        db.migrate()
        with db.session() as session:
            assert session.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
                "0007_camera_configs"
            ]
            assert session.execute(text("SELECT id, last_seq FROM hub_state")).all() == [(1, 41)]
    finally:
        db.close()


def test_migration_matches_the_orm_models(engine_db: Database) -> None:
    register_geometry_reflection()
    with engine_db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": include_object}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == []


def test_idempotent_ingest(engine_service: HubService) -> None:
    message = make_message()
    first = engine_service.ingest.event(message)
    second = engine_service.ingest.event(message)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.incident is None
    assert engine_service.incidents.health() == {"events": 1, "incidents": 1, "last_seq": 1}
    assert engine_service.incidents.event(message.event.id) == message.event


def test_idempotent_under_a_race(engine_service: HubService) -> None:
    message = make_message()
    results = _in_threads(8, lambda _i: engine_service.ingest.event(message))
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert engine_service.incidents.health() == {"events": 1, "incidents": 1, "last_seq": 1}


def test_concurrent_writers_get_distinct_increasing_seqs(engine_service: HubService) -> None:
    stamps = times(12, step_s=1.0)
    results: list[IngestResult] = _in_threads(
        12, lambda i: engine_service.ingest.event(make_message(track_id=i, occurred_at=stamps[i], seed=i))
    )
    seqs = sorted(r.incident.seq for r in results if r.incident is not None)
    assert seqs == list(range(1, 13))
    assert engine_service.journal.last_seq() == 12
    listed = engine_service.incidents.recent(after_seq=6)
    assert [i.seq for i in listed] == list(range(12, 6, -1))


def test_exercise_filter_and_snapshot(engine_service: HubService, evidence: EvidenceStore) -> None:
    real = engine_service.ingest.event(make_message(track_id=1, seed=1)).incident
    drill = engine_service.ingest.event(make_message(track_id=2, seed=2, exercise=True)).incident
    assert real is not None and drill is not None
    assert [i.id for i in engine_service.incidents.recent()] == [real.id]
    assert [i.id for i in engine_service.incidents.recent(include_exercise=True)] == [drill.id, real.id]
    assert real.snapshot_sha256 is not None
    path = engine_service.evidence.path(real.snapshot_sha256)
    assert path is not None and path.read_bytes() == jpeg_bytes(1)
    assert evidence.get(real.snapshot_sha256) == jpeg_bytes(1)


def test_aware_datetimes_round_trip(engine_service: HubService) -> None:
    kst = timezone(timedelta(hours=9))
    occurred = datetime(2025, 6, 25, 4, 0, 0, 250000, tzinfo=kst)
    incident = engine_service.ingest.event(make_message(occurred_at=occurred)).incident
    assert incident is not None
    stored = engine_service.incidents.get(incident.id)
    event = engine_service.incidents.event(incident.event_ids[0])
    assert stored is not None and event is not None
    assert stored.first_seen == occurred
    assert stored.first_seen.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is not None
    assert event.occurred_at == occurred
    assert engine_service.incidents.events()[0].occurred_at == occurred
    audit = engine_service.audit.entries(1)[0]
    assert abs(audit.at - datetime.now(UTC)) < timedelta(minutes=1)


def test_users_round_trip(engine_db: Database, evidence: EvidenceStore) -> None:
    service = HubService(engine_db, evidence, password_hasher=FAST_HASHER)
    generated = service.identity.ensure_admin(None)
    assert generated is not None
    assert service.identity.ensure_admin(None) is None
    admin = service.identity.users.authenticate("admin", generated)
    assert admin is not None and admin == service.identity.users.get("admin")
    assert service.identity.users.authenticate("admin", "nope") is None
