"""Fusion in the hub's ingest path (SQLite): joins within and across batches, seqs, history, audit."""

import uuid
from collections.abc import Collection, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hwarang.domain import (
    Camera,
    GeoPoint,
    Incident,
    IncidentState,
    ObjectClass,
    RuleKind,
    Severity,
)
from hwarang.geo.geodesy import destination
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion import fuser as fusion_ingest
from hwarang.hub.fusion import rows
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.fusion.severity import NamedArea, SeverityConfig, SeverityRule
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentHistoryRow, IncidentRow
from tests.hub_support import FAST_HASHER, T0, make_camera, make_message, pg_schema_url

HERE = GeoPoint(lat=37.5636, lon=126.9976)


@pytest.fixture
def fused(sqlite_db: Database, evidence: EvidenceStore) -> HubService:
    """A hub that fuses with the default settings."""
    return HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())


def history(service: HubService, incident_id: uuid.UUID) -> list[IncidentHistoryRow]:
    with service.database.session() as session:
        stmt = select(IncidentHistoryRow).where(IncidentHistoryRow.incident_id == incident_id)
        rows = list(session.scalars(stmt.order_by(IncidentHistoryRow.id)))
        session.expunge_all()
        return rows


def at(seconds: float) -> Any:
    return T0 + timedelta(seconds=seconds)


def test_one_person_through_two_zones_in_one_batch_is_one_incident(fused: HubService) -> None:
    seen: list[Incident] = []
    fused.journal.add_listener(seen.append)
    west = make_message(track_id=7, rule_name="zone-west", occurred_at=at(0), seed=1)
    east = make_message(track_id=7, rule_name="zone-east", occurred_at=at(4), seed=2)
    results = fused.ingest.batch([west, east])
    assert [r.duplicate for r in results] == [False, False]
    first, second = (r.incident for r in results)
    assert first is not None and first == second
    assert first.event_ids == (west.event.id, east.event.id)
    assert (first.first_seen, first.last_seen, first.seq) == (at(0), at(4), 1)
    assert seen == [first], "listeners hear of the incident once, as the batch left it"
    assert fused.incidents.health() == {"events": 2, "incidents": 1, "last_seq": 1}
    steps = history(fused, first.id)
    assert [row.kind for row in steps] == ["created", "event.added"]
    assert steps[1].detail["event_id"] == str(east.event.id)
    assert steps[1].detail["score"] == 1.0
    assert steps[1].detail["reasons"] == ["same camera cam-01 and track 7, 4.0 s apart"]
    actions = [(entry.action, entry.target) for entry in fused.audit.entries(10)]
    assert actions == [("incident.event_add", str(first.id)), ("incident.create", str(first.id))]


def test_a_later_batch_joins_the_stored_incident_with_a_new_seq(fused: HubService) -> None:
    opened = fused.ingest.event(make_message(track_id=1, object_class=ObjectClass.UNKNOWN, occurred_at=at(0)))
    assert opened.incident is not None and opened.incident.severity is Severity.LOW
    seen: list[Incident] = []
    fused.journal.add_listener(seen.append)
    near = destination(HERE, 0.0, 40.0)
    joined = fused.ingest.event(make_message(track_id=2, occurred_at=at(20), geo=near, seed=2)).incident
    assert joined is not None and joined.id == opened.incident.id
    assert joined.seq == 2 > opened.incident.seq
    assert joined.severity is Severity.HIGH, "an incident takes the highest severity of its events"
    assert (joined.last_seen, joined.geo) == (at(20), near)
    assert len(joined.event_ids) == 2
    assert seen == [joined]
    assert fused.incidents.get(joined.id) == joined
    assert fused.incidents.recent(after_seq=1) == [joined]
    reasons = history(fused, joined.id)[-1].detail["reasons"]
    assert reasons == ["20.0 s apart", "40 m apart", "compatible classes person/unknown"]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"occurred_at": at(200)}, "far apart in time"),
        ({"geo": destination(HERE, 90.0, 2_000.0), "camera_id": "cam-02"}, "far apart on the map"),
        ({"object_class": ObjectClass.VEHICLE}, "incompatible classes"),
        ({"exercise": True}, "an exercise inject never joins a real incident"),
    ],
)
def test_unrelated_events_open_their_own_incidents(
    fused: HubService, change: dict[str, Any], why: str
) -> None:
    first = fused.ingest.event(make_message(track_id=1, occurred_at=at(0))).incident
    fields: dict[str, Any] = {"track_id": 2, "occurred_at": at(10), "seed": 2, **change}
    second = fused.ingest.event(make_message(**fields)).incident
    assert first is not None and second is not None
    assert first.id != second.id, why
    assert fused.incidents.health()["incidents"] == 2


def test_closed_and_merged_incidents_take_no_new_events(fused: HubService) -> None:
    resolved = fused.ingest.event(make_message(track_id=1, occurred_at=at(0))).incident
    assert resolved is not None
    with fused.database.session(write=True) as session:
        stmt = update(IncidentRow).where(IncidentRow.id == resolved.id)
        session.execute(stmt.values(state="resolved", seq=fused.journal.next_seq(session)))
    after = fused.ingest.event(
        make_message(track_id=1, rule_name="other-zone", occurred_at=at(5), seed=2)
    ).incident
    assert after is not None and after.id != resolved.id, "same track, but the incident is resolved"
    other = fused.ingest.event(make_message(track_id=9, occurred_at=at(100), seed=3)).incident
    assert other is not None and other.id != after.id
    fused.ingest.merge(other.id, [after.id], "same intruder", "cmdr")
    target = fused.ingest.event(
        make_message(track_id=1, rule_name="third-zone", occurred_at=at(9), seed=4)
    ).incident
    assert target is not None and target.id == other.id, "the merged incident's track now lives in the target"
    merged = fused.incidents.get(after.id)
    assert merged is not None and (merged.merged_into, merged.event_ids) == (other.id, ())


def test_cameras_with_overlapping_views_fuse_far_apart_events(
    sqlite_db: Database, evidence: EvidenceStore
) -> None:
    config = FusionConfig(max_distance_m=30.0)
    service = HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=config)
    west, east = destination(HERE, 270.0, 50.0), destination(HERE, 90.0, 50.0)
    base = make_camera("cam-west")
    service.cameras.upsert(base.model_copy(update={"position": west, "heading_deg": 90.0}))
    first = service.ingest.event(
        make_message(track_id=1, camera_id="cam-west", geo=west, occurred_at=at(0))
    ).incident
    assert first is not None
    # cam-east is not registered yet: 100 m apart and no known field of view, so no fusion
    alone = service.ingest.event(
        make_message(track_id=2, camera_id="cam-east", geo=east, occurred_at=at(3), seed=2)
    )
    assert alone.incident is not None and alone.incident.id != first.id
    # registered (the hub re-reads its cameras), looking back west: the two views overlap
    service.cameras.upsert(
        base.model_copy(update={"id": "cam-north", "position": east, "heading_deg": 270.0})
    )
    seen = make_message(track_id=3, camera_id="cam-north", geo=east, occurred_at=at(6), seed=3)
    joined = service.ingest.event(seen).incident
    assert joined is not None and joined.id == first.id
    assert (
        "fields of view of cam-north and cam-west overlap" in history(service, first.id)[-1].detail["reasons"]
    )


def _rules() -> SeverityConfig:
    return SeverityConfig(
        areas=[
            NamedArea(
                name="power-plant",
                kind="key_infrastructure",
                polygon=[(126.99, 37.56), (127.01, 37.56), (127.01, 37.57), (126.99, 37.57)],
            )
        ],
        rules=[
            SeverityRule(
                name="kni",
                rules=[RuleKind.ZONE_INTRUSION],
                area_kinds=["key_infrastructure"],
                severity=Severity.CRITICAL,
                share_with=["military", "police"],
            )
        ],
    )


def test_severity_rules_rate_and_share_incidents(sqlite_db: Database, evidence: EvidenceStore) -> None:
    service = HubService(
        sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig(severity=_rules())
    )
    loiter = service.ingest.event(
        make_message(track_id=1, rule=RuleKind.LOITERING, occurred_at=at(0))
    ).incident
    assert loiter is not None and (loiter.severity, loiter.shared_with) == (Severity.MEDIUM, ())
    inside = service.ingest.event(
        make_message(track_id=1, rule_name="fence", occurred_at=at(5), seed=2)
    ).incident
    assert inside is not None and inside.id == loiter.id
    assert (inside.severity, inside.shared_with) == (Severity.CRITICAL, ("military", "police"))
    assert service.incidents.get(inside.id) == inside, "stored as returned"
    assert history(service, inside.id)[-1].detail["severity_rules"] == ["kni"]


def test_fusion_disabled_opens_one_incident_per_event_but_rates_them(
    sqlite_db: Database, evidence: EvidenceStore
) -> None:
    config = FusionConfig(enabled=False, severity=_rules())
    service = HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=config)
    results = service.ingest.batch([make_message(track_id=1, occurred_at=at(i), seed=i) for i in range(3)])
    incidents = [r.incident for r in results]
    assert len({i.id for i in incidents if i is not None}) == 3
    assert all(i is not None and i.severity is Severity.CRITICAL for i in incidents)
    assert [row.kind for row in history(service, incidents[0].id)] == ["created"]  # type: ignore[union-attr]


def test_without_a_fusion_config_ingest_is_as_before(service: HubService) -> None:
    results = service.ingest.batch([make_message(track_id=1, occurred_at=at(i), seed=i) for i in range(3)])
    assert [r.incident.seq for r in results if r.incident is not None] == [1, 2, 3]
    assert history(service, results[0].incident.id) == []  # type: ignore[union-attr]


@pytest.fixture
def pg_fused(evidence: EvidenceStore) -> Iterator[HubService]:
    """A fusing hub on PostgreSQL, where writers do not lock the whole database."""
    for url in pg_schema_url():
        db = Database(url)
        db.migrate()
        try:
            yield HubService(db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())
        finally:
            db.close()


def test_planning_starts_over_when_a_joined_incident_changed(
    pg_fused: HubService, monkeypatch: pytest.MonkeyPatch
) -> None:
    fused = pg_fused
    first = fused.ingest.event(make_message(track_id=1, occurred_at=at(0))).incident
    assert first is not None
    real = rows.lock_incidents
    calls: list[int] = []

    def racing(session: Any, incident_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, tuple[int, bool]]:
        calls.append(len(incident_ids))
        locked = real(session, incident_ids)
        if len(calls) == 1:  # another writer resolved it meanwhile
            session.execute(
                update(IncidentRow).where(IncidentRow.id == first.id).values(state="resolved", seq=99)
            )
            return {incident_id: (99, False) for incident_id in locked}
        return locked

    monkeypatch.setattr(fusion_ingest, "lock_incidents", racing)
    second = fused.ingest.event(
        make_message(track_id=1, rule_name="zone-2", occurred_at=at(3), seed=2)
    ).incident
    assert calls == [1, 0], "planned again without the changed incident"
    assert second is not None and second.id != first.id

    def always_changed(
        session: Any, incident_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, bool]]:
        return {incident_id: (-1, True) for incident_id in incident_ids}

    monkeypatch.setattr(fusion_ingest, "lock_incidents", always_changed)
    third = fused.ingest.event(
        make_message(track_id=1, rule_name="zone-3", occurred_at=at(4), seed=3)
    ).incident
    assert third is not None and third.id not in (first.id, second.id), "a changed incident is not joined"


def test_another_writer_changing_an_incident_is_seen_by_the_next_batch(
    fused: HubService, sqlite_db: Database, evidence: EvidenceStore
) -> None:
    opened = fused.ingest.event(make_message(track_id=1, occurred_at=at(0))).incident
    assert opened is not None
    fused.ingest.event(make_message(track_id=1, rule_name="zone-2", occurred_at=at(2), seed=2))
    other_process = HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())
    moved = fused.incidents.get(opened.id)
    assert moved is not None
    rest, split_off = other_process.ingest.split(opened.id, [moved.event_ids[1]], "two people", "cmdr")
    joined = fused.ingest.event(
        make_message(track_id=1, rule_name="zone-3", occurred_at=at(4), seed=3)
    ).incident
    assert joined is not None
    stored = fused.incidents.get(joined.id)
    assert stored is not None and joined.event_ids == stored.event_ids, "no stale cached event list"
    assert joined.id in (rest.id, split_off.id)


def test_camera_positions_place_events_without_geo_for_severity(
    sqlite_db: Database, evidence: EvidenceStore
) -> None:
    service = HubService(
        sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig(severity=_rules())
    )
    service.cameras.upsert(Camera.model_validate({**make_camera().model_dump(), "position": HERE}))
    incident = service.ingest.event(make_message(track_id=1, geo=None)).incident
    assert incident is not None and incident.severity is Severity.CRITICAL


def test_states_other_than_closed_still_take_events(fused: HubService) -> None:
    opened = fused.ingest.event(make_message(track_id=1, occurred_at=at(0))).incident
    assert opened is not None
    with fused.database.session(write=True) as session:  # as a workflow transition does: a new seq
        stmt = update(IncidentRow).where(IncidentRow.id == opened.id)
        session.execute(
            stmt.values(state=IncidentState.RESPONDING.value, seq=fused.journal.next_seq(session))
        )
    joined = fused.ingest.event(make_message(track_id=2, occurred_at=at(5), seed=2)).incident
    assert joined is not None and joined.id == opened.id
    assert joined.state is IncidentState.RESPONDING


def test_fuse_merge_and_split_on_each_engine(engine_db: Database, evidence: EvidenceStore) -> None:
    service = HubService(engine_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())
    first = service.ingest.batch(
        [make_message(track_id=1, occurred_at=at(0)), make_message(track_id=2, occurred_at=at(1), seed=2)]
    )
    opened = first[0].incident
    assert opened is not None and first[1].incident == opened and len(opened.event_ids) == 2
    later = service.ingest.event(
        make_message(track_id=1, rule_name="zone-2", occurred_at=at(30), seed=3)
    ).incident
    assert later is not None and later.id == opened.id and later.seq > opened.seq
    assert service.incidents.get(opened.id) == later
    other = service.ingest.event(
        make_message(track_id=5, object_class=ObjectClass.VEHICLE, occurred_at=at(31), seed=4)
    )
    assert other.incident is not None and other.incident.id != opened.id
    merged = service.ingest.merge(opened.id, [other.incident.id], "one convoy", "cmdr")
    assert len(merged.event_ids) == 4 and merged.seq > other.incident.seq
    rest, new = service.ingest.split(opened.id, list(other.incident.event_ids), "not the convoy", "cmdr")
    assert new.event_ids == other.incident.event_ids and len(rest.event_ids) == 3
    assert (new.object_class, new.seq) == (ObjectClass.VEHICLE, rest.seq + 1)
    assert service.incidents.get(rest.id) == rest and service.incidents.get(new.id) == new
    kinds = [row.kind for row in history(service, opened.id)]
    assert kinds == ["created", "event.added", "event.added", "merge", "split"]


def test_late_arriving_events_are_listed_in_time_order(fused: HubService) -> None:
    later = make_message(track_id=3, occurred_at=at(10))
    earlier = make_message(track_id=3, rule_name="zone-2", occurred_at=at(5), seed=2)
    fused.ingest.event(later)
    incident = fused.ingest.event(earlier).incident
    assert incident is not None
    assert incident.event_ids == (earlier.event.id, later.event.id)
    assert (incident.first_seen, incident.last_seen) == (at(5), at(10))
    assert fused.incidents.get(incident.id) == incident
    newest = fused.ingest.event(
        make_message(track_id=3, rule_name="zone-3", occurred_at=at(12), seed=3)
    ).incident
    assert newest is not None and newest.event_ids[:2] == incident.event_ids and len(newest.event_ids) == 3
