"""Set-based writes (COPY / UPDATE ... FROM unnest on PostgreSQL) store what executemany would."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from hwarang.hub.errors import StoreError
from hwarang.hub.store.bulk_write import insert_rows, update_rows
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentHistoryRow, IncidentRow

pytestmark = pytest.mark.integration

INCIDENTS = cast(Table, IncidentRow.__table__)
HISTORY = cast(Table, IncidentHistoryRow.__table__)
T0 = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)


def _incident(seq: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "seq": seq,
        "title": f"incident {seq} '\"\\ tab\there",
        "state": "new",
        "severity": "medium",
        "classification": "restricted",
        "object_class": "person",
        "rule": "zone_intrusion",
        "camera_id": "cam-01",
        "center_id": "seoul-cc",
        "sido_code": "11",
        "sigungu_code": "11140",
        "zone_id": None,
        "lat": None,
        "lon": None,
        "first_seen": T0,
        "last_seen": T0,
        "created_at": T0,
        "updated_at": T0,
        "exercise": False,
        "shared_with": ["police"],
        "track_keys": [["cam-01", 7]],
        "snapshot_sha256": None,
    }
    row.update(values)
    return {key: value for key, value in row.items() if key in INCIDENTS.c}


def _stored(db: Database) -> dict[uuid.UUID, dict[str, Any]]:
    with db.session() as session:
        rows = session.execute(select(INCIDENTS)).mappings().all()
    return {row["id"]: dict(row) for row in rows}


def test_insert_then_update_round_trips_every_type(engine_db: Database) -> None:
    seoul = timezone(timedelta(hours=9))
    rows = [
        _incident(1, lat=37.5, lon=127.0, shared_with=[], track_keys=[]),
        _incident(2, first_seen=T0.astimezone(seoul), title="한글 제목 \\N null-like"),
        _incident(3, snapshot_sha256="ab" * 32),
    ]
    with engine_db.session(write=True) as session:
        insert_rows(session, INCIDENTS, rows)
    stored = _stored(engine_db)
    for row in rows:
        got = stored[row["id"]]
        for key, value in row.items():
            assert got[key] == value, key
    later = T0 + timedelta(seconds=90)
    moved = [
        {**rows[0], "seq": 4, "lat": None, "lon": None, "track_keys": [["cam-02", 1], ["cam-01", 7]]},
        {**rows[2], "seq": 5, "lat": 35.1, "lon": 129.0, "last_seen": later, "updated_at": later},
    ]
    names = ("seq", "lat", "lon", "last_seen", "track_keys", "updated_at")
    with engine_db.session(write=True) as session:
        update_rows(session, INCIDENTS, "id", names, moved)
    stored = _stored(engine_db)
    assert stored[rows[0]["id"]]["seq"] == 4 and stored[rows[0]["id"]]["lat"] is None
    assert stored[rows[0]["id"]]["track_keys"] == [["cam-02", 1], ["cam-01", 7]]
    assert stored[rows[2]["id"]]["last_seen"] == later and stored[rows[2]["id"]]["lon"] == 129.0
    assert stored[rows[1]["id"]] == {**rows[1], "first_seen": T0} | {
        k: v for k, v in stored[rows[1]["id"]].items() if k not in rows[1]
    }


def test_a_duplicate_key_is_an_integrity_error_and_nothing_is_kept(engine_db: Database) -> None:
    first = _incident(1)
    with engine_db.session(write=True) as session:
        insert_rows(session, INCIDENTS, [first])
    with pytest.raises(IntegrityError), engine_db.session(write=True) as session:
        insert_rows(session, INCIDENTS, [_incident(2), {**first, "seq": 3}])
    assert [row["seq"] for row in _stored(engine_db).values()] == [1]


def test_naive_datetimes_are_refused(engine_db: Database) -> None:
    naive = T0.replace(tzinfo=None)
    with pytest.raises(StoreError, match="naive datetime"), engine_db.session(write=True) as session:
        insert_rows(session, INCIDENTS, [_incident(1, first_seen=naive)])
    assert _stored(engine_db) == {}


def test_json_details_keep_their_structure(engine_db: Database) -> None:
    incident = _incident(1)
    detail = {"score": 0.5, "reasons": ["same track", "near"], "nested": {"quote": 'it\'s "x"'}}
    with engine_db.session(write=True) as session:
        insert_rows(session, INCIDENTS, [incident])
        insert_rows(
            session,
            HISTORY,
            [
                {
                    "incident_id": incident["id"],
                    "at": T0,
                    "actor": "ingest",
                    "kind": "created",
                    "from_state": None,
                    "to_state": None,
                    "detail": detail,
                }
            ],
        )
    with engine_db.session() as session:
        assert session.scalars(select(IncidentHistoryRow.detail)).all() == [detail]


def test_an_update_with_a_bad_value_changes_nothing(engine_db: Database) -> None:
    row = _incident(1)
    with engine_db.session(write=True) as session:
        insert_rows(session, INCIDENTS, [row])
    bad = {**row, "seq": 2, "last_seen": T0.replace(tzinfo=None)}
    with pytest.raises(StoreError, match="naive datetime"), engine_db.session(write=True) as session:
        update_rows(session, INCIDENTS, "id", ("seq", "last_seen"), [bad])
    assert [stored["seq"] for stored in _stored(engine_db).values()] == [1]
