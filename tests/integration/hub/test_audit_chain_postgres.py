"""The audit hash chain on SQLite and PostgreSQL: tampering named, concurrent writers, migration backfill."""

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from hwarang.hub.evidence.audit import GENESIS_HASH
from hwarang.hub.evidence.chain import verify_chain
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database, alembic_config
from tests.hub_support import make_message, times

pytestmark = pytest.mark.integration


def _fill(service: HubService, n: int) -> None:
    for i in range(n):
        service.audit.record("op1", "evidence.view", f"snapshot:{i:064x}", {"i": i, "ratio": i / 7})


def _sql(database: Database, statement: str, **params: object) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


def _json_param(database: Database) -> str:
    return "CAST(:d AS JSONB)" if database.dialect == "postgresql" else ":d"


def test_untouched_then_edited_record_is_named(engine_service: HubService) -> None:
    _fill(engine_service, 25)
    report = engine_service.audit.verify()
    assert report.ok, report.summary()
    assert report.records == 25 and report.head == engine_service.audit.entries(1)[0].hash
    db = engine_service.database
    _sql(db, f"UPDATE audit_log SET detail = {_json_param(db)} WHERE id = 17", d=json.dumps({"i": 1700}))
    report = engine_service.audit.verify()
    assert report.summary() == "record 17: hash mismatch (edited?)"


def test_deleted_middle_and_last_records_are_named(engine_service: HubService) -> None:
    _fill(engine_service, 20)
    _sql(engine_service.database, "DELETE FROM audit_log WHERE id = 20")
    problem = engine_service.audit.verify().problem
    assert problem is not None and (problem.record_id, problem.kind) == (20, "missing")
    _sql(engine_service.database, "DELETE FROM audit_log WHERE id = 9")
    problem = engine_service.audit.verify().problem
    assert problem is not None and (problem.record_id, problem.kind) == (9, "missing")
    assert problem.message.startswith("record 9 missing (deleted?)")


def test_concurrent_writers_keep_one_valid_chain(engine_service: HubService) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                start.wait(timeout=30)
                work()
            except BaseException as exc:
                errors.append(exc)

        return run

    def auditor(n: int) -> Callable[[], None]:
        def run() -> None:
            for k in range(30):
                engine_service.audit.record(f"user{n}", "auth.login", f"user:user{n}", {"k": k})

        return run

    def ingester(n: int) -> Callable[[], None]:
        messages = [
            make_message(track_id=1000 * n + i, occurred_at=t, seed=i) for i, t in enumerate(times(60))
        ]

        def run() -> None:
            for i in range(0, 60, 15):
                engine_service.ingest.batch(messages[i : i + 15])

        return run

    workers = [threading.Thread(target=guarded(auditor(n))) for n in range(4)]
    workers += [threading.Thread(target=guarded(ingester(n))) for n in range(1, 3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    report = engine_service.audit.verify()
    assert report.ok, report.summary()
    assert report.records == report.last_id == 4 * 30 + 2 * 60
    creates = engine_service.audit.entries(1000, action="incident.create")
    assert len(creates) == 120 and len({entry.detail["seq"] for entry in creates}) == 120


def test_migration_chains_records_written_before_it(engine_url: str, tmp_path: Path) -> None:
    database = Database(engine_url)
    config = alembic_config()
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002_postgis")
        connection.commit()
    for record_id in (2, 5, 6, 11):
        _sql(
            database,
            "INSERT INTO audit_log (id, at, actor, action, target, detail) "
            f"VALUES (:i, :at, 'admin', 'auth.login', 'user:admin', {_json_param(database)})",
            i=record_id,
            at=times(1)[0].isoformat() if database.dialect == "postgresql" else "2025-03-01 12:00:00.000000",
            d=json.dumps({"n": record_id, "f": 0.1, "big": 1e20, "text": "화랑"}),
        )
    database.migrate()
    try:
        report = verify_chain(database)
        assert report.ok, report.summary()
        assert (report.records, report.last_id) == (4, 4)
        with database.session() as session:
            first = session.execute(text("SELECT prev_hash FROM audit_log WHERE id = 1")).scalar_one()
        assert first == GENESIS_HASH
        service = HubService(database, EvidenceStore(tmp_path / "evidence"))
        service.audit.record("admin", "auth.login", "user:admin")
        assert verify_chain(database).records == 5
    finally:
        database.close()
