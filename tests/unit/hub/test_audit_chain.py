"""The audit trail's hash chain on SQLite: appends, verification, and tampering named by record."""

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from hwarang.hub.evidence.audit import (
    GENESIS_HASH,
    add_audit,
    add_audits,
    canonical_record,
    normalise_detail,
    record_hash,
)
from hwarang.hub.evidence.chain import verify_chain
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database, alembic_config
from tests.hub_support import make_message, times

AT = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _fill(service: HubService, n: int) -> None:
    for i in range(n):
        service.audit.record(
            f"user{i % 3}", "evidence.view", f"snapshot:{i:064x}", {"i": i, "client": "127.0.0.1"}
        )


def _sql(database: Database, statement: str, **params: object) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_canonical_form_is_sorted_compact_utf8_with_rfc3339_microseconds() -> None:
    seoul = timezone(timedelta(hours=9))
    data = canonical_record(
        7, AT.astimezone(seoul), "운영자", "auth.login", "user:a", {"b": 1, "a": [1.5]}, "ab"
    )
    assert (
        data
        == (
            '{"action":"auth.login","actor":"운영자","at":"2025-03-01T12:00:00.123456Z",'
            '"detail":{"a":[1.5],"b":1},"id":7,"prev_hash":"ab","target":"user:a"}'
        ).encode()
    )
    assert record_hash(7, AT, "운영자", "auth.login", "user:a", {"a": [1.5], "b": 1}, "ab") == (
        hashlib.sha256(data).hexdigest()
    )


def test_detail_is_normalised_to_what_every_engine_gives_back() -> None:
    raw: dict[Any, Any] = {
        "big": 1e20,
        "neg0": -0.0,
        "nan": float("nan"),
        3: (1, 2),
        "t": AT,
    }  # a non-str key
    detail = normalise_detail(raw)
    assert detail == {"big": 10**20, "neg0": 0.0, "nan": "nan", "3": [1, 2], "t": str(AT)}
    assert json.loads(json.dumps(detail)) == detail


def test_records_are_numbered_without_gaps_and_linked(service: HubService) -> None:
    _fill(service, 5)
    with service.database.session(write=True) as session:
        ids = add_audits(
            session,
            [
                {"actor": "system:ingest", "action": "incident.create", "target": "a", "at": AT},
                {"actor": "system:ingest", "action": "incident.create", "target": "b", "detail": {"x": 1}},
            ],
        )
    assert ids == [6, 7]
    entries = list(reversed(service.audit.entries(10)))
    assert [e.id for e in entries] == [1, 2, 3, 4, 5, 6, 7]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    last = entries[-1]
    assert last.hash == record_hash(
        7, last.at, last.actor, last.action, last.target, last.detail, entries[-2].hash or ""
    )
    report = verify_chain(service.database)
    assert report.ok and report.records == 7 and report.last_id == 7 and report.head == last.hash
    assert report.summary().startswith("7 audit records 1..7 verified")


def test_an_empty_trail_verifies(service: HubService) -> None:
    report = service.audit.verify()
    assert report.ok and report.records == 0 and report.head is None
    assert report.summary() == "audit trail is empty"


def test_ingest_batches_are_chained(service: HubService) -> None:
    service.audit.record("admin", "auth.login", "user:admin")
    results = service.ingest.batch(
        [make_message(track_id=i, occurred_at=t, seed=i) for i, t in enumerate(times(40))]
    )
    assert all(not r.duplicate for r in results)
    creates = service.audit.entries(50, action="incident.create")
    assert len(creates) == 40 and creates[0].id == 41
    assert creates[0].target == str(results[-1].incident.id if results[-1].incident else None)
    assert service.audit.verify().ok


def test_an_edited_record_is_named(service: HubService) -> None:
    _fill(service, 30)
    _sql(service.database, "UPDATE audit_log SET detail = :d WHERE id = 17", d=json.dumps({"i": 999}))
    report = service.audit.verify()
    assert not report.ok and report.problem is not None
    assert report.problem.record_id == 17 and report.problem.kind == "hash_mismatch"
    assert report.summary() == "record 17: hash mismatch (edited?)"
    assert report.records == 16


def test_an_edited_actor_or_time_is_named(service: HubService) -> None:
    _fill(service, 10)
    _sql(service.database, "UPDATE audit_log SET actor = 'someone-else' WHERE id = 4")
    assert service.audit.verify().summary() == "record 4: hash mismatch (edited?)"


def test_a_rehashed_edit_breaks_the_next_link(service: HubService) -> None:
    _fill(service, 10)
    entry = next(e for e in service.audit.entries(10) if e.id == 5)
    forged = record_hash(
        5, entry.at, entry.actor, entry.action, entry.target, {"i": -1}, entry.prev_hash or ""
    )
    _sql(
        service.database, "UPDATE audit_log SET detail = :d, hash = :h WHERE id = 5", d='{"i": -1}', h=forged
    )
    report = service.audit.verify()
    assert report.problem is not None
    assert (report.problem.record_id, report.problem.kind) == (6, "broken_link")


def test_a_deleted_middle_record_is_named(service: HubService) -> None:
    _fill(service, 30)
    _sql(service.database, "DELETE FROM audit_log WHERE id = 18")
    report = service.audit.verify()
    assert report.problem is not None and report.problem.kind == "missing"
    assert report.summary().startswith("record 18 missing (deleted?)")


def test_a_deleted_last_record_is_caught_by_the_head(service: HubService) -> None:
    _fill(service, 12)
    _sql(service.database, "DELETE FROM audit_log WHERE id = 12")
    report = service.audit.verify()
    assert report.problem is not None and (report.problem.record_id, report.problem.kind) == (12, "missing")


def test_a_replaced_last_record_is_caught_by_the_head(service: HubService) -> None:
    _fill(service, 6)
    last = service.audit.entries(1)[0]
    forged = record_hash(
        6, last.at, last.actor, "auth.logout", last.target, last.detail, last.prev_hash or ""
    )
    _sql(service.database, "UPDATE audit_log SET action = 'auth.logout', hash = :h WHERE id = 6", h=forged)
    report = service.audit.verify()
    assert report.problem is not None and (report.problem.record_id, report.problem.kind) == (
        6,
        "head_mismatch",
    )


def test_an_inserted_record_is_named(service: HubService) -> None:
    _fill(service, 3)
    _sql(
        service.database,
        "INSERT INTO audit_log (id, at, actor, action, target, detail, prev_hash, hash) "
        "VALUES (4, '2025-03-01 12:00:00.000000', 'x', 'y', 'z', '{}', :p, :h)",
        p=GENESIS_HASH,
        h=GENESIS_HASH,
    )
    report = service.audit.verify()
    assert report.problem is not None and (report.problem.record_id, report.problem.kind) == (4, "unexpected")


def test_progress_is_reported_up_to_the_total(service: HubService) -> None:
    _fill(service, 5)
    seen: list[tuple[int, int]] = []
    assert service.audit.verify(progress=lambda done, total: seen.append((done, total))).ok
    assert seen[-1] == (5, 5)


def test_add_audit_refuses_records_without_actor_or_naive_times(service: HubService) -> None:
    with pytest.raises(ValueError, match="actor"), service.database.session(write=True) as session:
        add_audit(session, "", "x.y", "t")
    with pytest.raises(ValueError, match="naive"), service.database.session(write=True) as session:
        add_audit(session, "a", "x.y", "t", at=datetime(2025, 1, 1))
    assert service.audit.verify().records == 0


def test_list_audit_filters(service: HubService) -> None:
    service.audit.record("admin", "auth.login", "user:admin")
    service.audit.record("op1", "incident.transition", "incident:abc", {"to": "acknowledged"})
    service.audit.record("op1", "incident.note", "incident:abc")
    service.audit.record("op1", "evidence.view", "snapshot:ff")
    assert [e.id for e in service.audit.entries(10, action="incident.")] == [3, 2]
    assert [e.id for e in service.audit.entries(10, actor="op1", target="abc")] == [3, 2]
    assert [e.id for e in service.audit.entries(10, before_id=3)] == [2, 1]
    assert [e.id for e in service.audit.entries(10, action="incident")] == []


def test_migration_chains_existing_records_and_closes_gaps(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    config = alembic_config()
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002_postgis")
        connection.commit()
    for record_id in (3, 4, 9):
        _sql(
            database,
            "INSERT INTO audit_log (id, at, actor, action, target, detail) "
            "VALUES (:i, '2025-03-01 12:00:00.000000', 'admin', 'auth.login', 'user:admin', :d)",
            i=record_id,
            d=json.dumps({"n": record_id, "f": 0.1}),
        )
    database.migrate()
    report = verify_chain(database)
    assert report.ok, report.summary()
    assert report.records == 3 and report.last_id == 3
    with database.session() as session:
        details = [row[0] for row in session.execute(text("SELECT detail FROM audit_log ORDER BY id"))]
    assert [json.loads(d)["n"] for d in details] == [3, 4, 9]
    with database.session(write=True) as session:
        add_audit(session, "admin", "auth.login", "user:admin")
    assert verify_chain(database).records == 4
    database.close()
