"""Spatial incident queries: PostGIS on PostgreSQL and the portable path on SQLite give the same answers."""

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from hwarang.domain import EventMessage, GeoPoint, Incident
from hwarang.geo.geodesy import destination
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.hub_support import FAST_HASHER, make_message, pg_schema_url, times

pytestmark = pytest.mark.integration

CENTER = GeoPoint(lat=37.5636, lon=126.9976)
RADIUS_M = 500.0
BEARINGS = (0.0, 37.0, 90.0, 133.0, 180.0, 222.0, 270.0, 315.0)
SCALE_DEG = 0.01
# An L-shaped polygon (lon, lat) whose notch is inside its bounding box but outside the shape;
# its corner is 0.05 degrees (about 5 km) north-east of CENTER, away from the circle's points.
L_SHAPE = [(0.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 2.0), (0.0, 2.0)]
L_CORNER = GeoPoint(lat=CENTER.lat + 0.05, lon=CENTER.lon + 0.05)


def _offset(x: float, y: float) -> GeoPoint:
    return GeoPoint(lat=L_CORNER.lat + y * SCALE_DEG, lon=L_CORNER.lon + x * SCALE_DEG)


def _polygon() -> list[tuple[float, float]]:
    return [(_offset(x, y).lon, _offset(x, y).lat) for x, y in L_SHAPE]


def _scene() -> tuple[list[EventMessage], set[int], set[int]]:
    """Messages in ingest order, the seqs within RADIUS_M of CENTER and the seqs inside the L."""
    near: list[tuple[GeoPoint | None, bool]] = [(CENTER, True), (None, False)]
    for bearing in BEARINGS:
        near.append((destination(CENTER, bearing, RADIUS_M - 0.001), True))
        near.append((destination(CENTER, bearing, RADIUS_M + 0.001), False))
    near.append((destination(CENTER, 10.0, 5 * RADIUS_M), False))
    polygon_points = [
        (_offset(0.5, 0.5), True),
        (_offset(1.5, 0.5), True),
        (_offset(0.5, 1.5), True),
        (_offset(1.5, 1.5), False),  # the notch
        (_offset(1.0 - 1e-7, 1.5), True),
        (_offset(1.0 + 1e-7, 1.5), False),
        (_offset(1.0, 1.5), False),  # on the edge: not strictly inside
        (_offset(2.5, 0.5), False),
    ]
    positions = near + polygon_points
    stamps = times(len(positions))
    messages = [
        make_message(track_id=i, occurred_at=stamps[i], with_snapshot=False, geo=geo)
        for i, (geo, _) in enumerate(positions)
    ]
    within_near = {i + 1 for i, (_, inside) in enumerate(near) if inside}
    within_polygon = {len(near) + i + 1 for i, (_, inside) in enumerate(polygon_points) if inside}
    return messages, within_near, within_polygon


@pytest.fixture
def pg_db() -> Iterator[Database]:
    """A migrated PostgreSQL database (fresh schema, PostGIS on the search_path)."""
    for url in pg_schema_url():
        db = Database(url)
        db.migrate()
        yield db
        db.close()


def _ingested(db: Database, evidence: EvidenceStore, messages: list[EventMessage]) -> HubService:
    service = HubService(db, evidence, password_hasher=FAST_HASHER)
    service.ingest.batch(messages)
    return service


def _keys(incidents: list[Incident]) -> list[tuple[int, tuple[uuid.UUID, ...]]]:
    return [(incident.seq, incident.event_ids) for incident in incidents]


def test_postgis_and_portable_paths_agree(
    sqlite_db: Database, pg_db: Database, evidence: EvidenceStore
) -> None:
    messages, near_seqs, polygon_seqs = _scene()
    portable, postgis = (_ingested(db, evidence, messages) for db in (sqlite_db, pg_db))
    assert (sqlite_db.postgis, pg_db.postgis) == (False, True)

    for service in (portable, postgis):
        near = service.incidents.near(CENTER.lat, CENTER.lon, RADIUS_M, limit=100)
        assert {i.seq for i in near} == near_seqs
        assert [i.seq for i in near] == sorted(near_seqs, reverse=True)
        inside = service.incidents.within(_polygon(), limit=100)
        assert {i.seq for i in inside} == polygon_seqs

    queries: list[tuple[float, float, float, int]] = [
        (CENTER.lat, CENTER.lon, RADIUS_M, 3),
        (CENTER.lat, CENTER.lon, 0.0, 10),
        (CENTER.lat + 0.004, CENTER.lon - 0.003, 700.0, 50),
        (CENTER.lat, CENTER.lon, 3000.0, 100),
    ]
    for lat, lon, radius, limit in queries:
        expected = _keys(portable.incidents.near(lat, lon, radius, limit=limit))
        assert _keys(postgis.incidents.near(lat, lon, radius, limit=limit)) == expected
    assert len(portable.incidents.near(CENTER.lat, CENTER.lon, RADIUS_M, limit=3)) == 3
    assert _keys(postgis.incidents.within(_polygon(), limit=2)) == _keys(
        portable.incidents.within(_polygon(), limit=2)
    )
    assert postgis.incidents.near(CENTER.lat, CENTER.lon, RADIUS_M, after_seq=max(near_seqs)) == []


def test_geom_is_generated_from_lat_lon_by_bulk_ingest(pg_db: Database, evidence: EvidenceStore) -> None:
    messages, _, _ = _scene()
    _ingested(pg_db, evidence, messages[:3])
    with pg_db.session() as session:
        rows = session.execute(
            text("SELECT seq, lat, lon, ST_X(geom), ST_Y(geom), ST_SRID(geom) FROM incidents ORDER BY seq")
        ).all()
        events = session.execute(text("SELECT count(*) FROM events WHERE geom IS NOT NULL")).scalar_one()
        indexes = session.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() AND indexname LIKE '%geom' ORDER BY indexname"
            )
        ).all()
    assert rows[0][1:] == (CENTER.lat, CENTER.lon, CENTER.lon, CENTER.lat, 4326)
    assert rows[1][1:] == (None, None, None, None, None)
    assert rows[2][3:5] == (rows[2][2], rows[2][1])
    assert events == 2
    assert [name for name, _ in indexes] == ["ix_events_geom", "ix_incidents_geom"]
    assert all("USING gist (geom)" in definition for _, definition in indexes)


def test_postgis_queries_run_st_functions_on_the_gist_index(pg_db: Database, evidence: EvidenceStore) -> None:
    messages, _, _ = _scene()
    service = _ingested(pg_db, evidence, messages)
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if "FROM incidents" in statement:
            captured.append((statement, parameters))

    event.listen(pg_db.engine, "before_cursor_execute", capture)
    try:
        assert service.incidents.near(CENTER.lat, CENTER.lon, RADIUS_M, limit=5)
        assert service.incidents.within(_polygon(), limit=5)
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", capture)
    assert [("ST_DWithin" in sql, "ST_Within" in sql) for sql, _ in captured] == [
        (True, False),
        (False, True),
    ]
    with pg_db.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        for sql, parameters in captured:
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, parameters))
            assert "ix_incidents_geom" in plan, plan
        conn.rollback()


def test_migration_without_usable_postgis_is_a_portable_no_op(
    evidence: EvidenceStore, caplog: pytest.LogCaptureFixture
) -> None:
    for url in pg_schema_url():
        hidden = url.replace("%2Cpublic", "")  # PostGIS (in public) is off the search_path
        assert hidden != url
        db = Database(hidden)
        try:
            with caplog.at_level(logging.WARNING):
                db.migrate()
            assert db.postgis is False
            assert "not on the search_path" in caplog.text
            messages, near_seqs, _ = _scene()
            service = _ingested(db, evidence, messages)
            near = service.incidents.near(CENTER.lat, CENTER.lon, RADIUS_M, limit=100)
            assert {i.seq for i in near} == near_seqs
        finally:
            db.close()
