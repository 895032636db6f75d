"""The in-memory mirror of open incidents stays exact when other writers change the store."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from hwarang.domain import GeoPoint
from hwarang.geo.geodesy import destination
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion import mirror as incident_mirror
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentRow
from tests.hub_support import FAST_HASHER, T0, make_message


def at(seconds: float) -> Any:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def pair(sqlite_db: Database, evidence: EvidenceStore) -> tuple[HubService, HubService]:
    """Two hub processes on one store (each with its own mirror)."""
    return tuple(  # type: ignore[return-value]
        HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig()) for _ in range(2)
    )


def test_an_incident_another_writer_opened_is_joined(pair: tuple[HubService, HubService]) -> None:
    ours, theirs = pair
    ours.ingest.event(make_message(track_id=1, camera_id="cam-07", occurred_at=at(0)))  # primes our mirror
    opened = theirs.ingest.event(make_message(track_id=2, occurred_at=at(1), seed=2)).incident
    joined = ours.ingest.event(
        make_message(track_id=2, rule_name="zone-2", occurred_at=at(3), seed=3)
    ).incident
    assert opened is not None and joined is not None and joined.id == opened.id
    assert joined.event_ids == (*opened.event_ids, joined.event_ids[-1])


def test_an_incident_another_writer_resolved_is_not_joined(pair: tuple[HubService, HubService]) -> None:
    ours, theirs = pair
    opened = ours.ingest.event(make_message(track_id=1, occurred_at=at(0))).incident
    assert opened is not None
    with theirs.database.session(write=True) as session:  # a workflow transition: a new seq
        stmt = update(IncidentRow).where(IncidentRow.id == opened.id)
        session.execute(stmt.values(state="resolved", seq=theirs.journal.next_seq(session)))
    again = ours.ingest.event(
        make_message(track_id=1, rule_name="zone-2", occurred_at=at(2), seed=2)
    ).incident
    assert again is not None and again.id != opened.id
    assert len(ours.fuser.mirror) == 1, "the resolved incident left the mirror"


def test_events_older_than_the_mirror_read_the_store_again(pair: tuple[HubService, HubService]) -> None:
    ours, theirs = pair
    early = theirs.ingest.event(make_message(track_id=4, occurred_at=at(0))).incident
    ours.ingest.event(
        make_message(track_id=9, camera_id="cam-09", occurred_at=at(3600))
    )  # mirror from 59 min on
    assert ours.fuser.mirror.since == at(3540)
    late = ours.ingest.event(
        make_message(track_id=4, rule_name="zone-2", occurred_at=at(20), seed=3)
    ).incident
    assert early is not None and late is not None and late.id == early.id
    assert ours.fuser.mirror.since == at(-40)


def test_a_merged_incident_takes_events_of_every_camera_it_holds(
    sqlite_db: Database, evidence: EvidenceStore
) -> None:
    service = HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())
    north = service.ingest.event(make_message(track_id=1, camera_id="cam-north", occurred_at=at(0))).incident
    far = destination(GeoPoint(lat=37.5636, lon=126.9976), 180.0, 5_000.0)
    south = service.ingest.event(
        make_message(track_id=7, camera_id="cam-south", geo=far, occurred_at=at(1), seed=2)
    ).incident
    assert north is not None and south is not None and north.id != south.id  # far apart, no known views
    service.ingest.merge(north.id, [south.id], "the same boat", "cmdr")
    seen = make_message(
        track_id=7, camera_id="cam-south", rule_name="zone-2", geo=far, occurred_at=at(5), seed=3
    )
    later = service.ingest.event(seen).incident
    assert later is not None and later.id == north.id


def test_a_full_mirror_forgets_the_least_recently_seen(
    sqlite_db: Database, evidence: EvidenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incident_mirror, "CAPACITY", 4)
    service = HubService(sqlite_db, evidence, password_hasher=FAST_HASHER, fusion=FusionConfig())
    for i in range(5):
        service.ingest.event(make_message(track_id=i, camera_id=f"cam-{i:02d}", occurred_at=at(i), seed=i))
    mirror = service.fuser.mirror
    assert len(mirror) == 4 and mirror.since is not None and mirror.since > at(0)
    joined = service.ingest.event(
        make_message(track_id=0, camera_id="cam-00", rule_name="z2", occurred_at=at(6))
    ).incident
    assert joined is not None and len(joined.event_ids) == 2, "found again in the store"
