"""HubService on SQLite: ingest, incidents, evidence, listeners, cameras, audit, health."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hwarang.domain import (
    Classification,
    EventMessage,
    Incident,
    IncidentState,
    ObjectClass,
    RuleKind,
    Severity,
)
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.rows import incident_title
from hwarang.hub.fusion.severity import severity_for
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.hub_support import (
    FAST_HASHER,
    jpeg_bytes,
    make_camera,
    make_event,
    make_message,
    new_incident,
    times,
)


def test_ingest_creates_one_incident_from_the_event(service: HubService) -> None:
    message = make_message()
    result = service.ingest.event(message)
    assert not result.duplicate
    assert result.event_id == message.event.id
    incident = result.incident
    assert incident is not None
    assert incident.event_ids == (message.event.id,)
    assert incident.state is IncidentState.NEW
    assert incident.severity is Severity.HIGH
    assert incident.classification is Classification.RESTRICTED
    assert incident.title == "Zone intrusion · person · cam-01"
    assert incident.first_seen == message.event.occurred_at
    assert incident.geo == message.event.geo
    assert incident.snapshot_sha256 == message.event.snapshot.sha256  # type: ignore[union-attr]
    assert service.incidents.get(incident.id) == incident
    assert service.incidents.event(message.event.id) == message.event


def test_same_event_twice_is_a_duplicate(service: HubService) -> None:
    message = make_message()
    first = service.ingest.event(message)
    second = service.ingest.event(message)
    assert not first.duplicate
    assert second.duplicate
    assert second.incident is None
    assert service.incidents.health() == {"events": 1, "incidents": 1, "last_seq": 1}


def test_snapshot_is_served_back_byte_identical(service: HubService) -> None:
    message = make_message(seed=7)
    service.ingest.event(message)
    assert message.event.snapshot is not None
    path = service.evidence.path(message.event.snapshot.sha256)
    assert path is not None
    assert path.read_bytes() == jpeg_bytes(7)
    assert service.evidence.path("f" * 64) is None
    assert service.evidence.path("../hub.sqlite3") is None


def test_event_without_snapshot_is_ingested(service: HubService) -> None:
    result = service.ingest.event(make_message(with_snapshot=False))
    assert result.incident is not None
    assert result.incident.snapshot_sha256 is None


def test_seq_strictly_increases_and_after_seq_filters(service: HubService) -> None:
    seqs = [
        new_incident(service, make_message(track_id=i, occurred_at=t)).seq for i, t in enumerate(times(5))
    ]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 5
    assert service.journal.last_seq() == seqs[-1]
    listed = service.incidents.recent(after_seq=seqs[1])
    assert [i.seq for i in listed] == list(reversed(seqs[2:]))
    assert [i.seq for i in service.incidents.recent(limit=2)] == [seqs[4], seqs[3]]
    assert service.incidents.recent(after_seq=seqs[-1]) == []


def test_exercise_incidents_are_hidden_unless_asked(service: HubService) -> None:
    real = new_incident(service, make_message(track_id=1))
    drill = new_incident(service, make_message(track_id=2, exercise=True))
    assert drill.exercise
    assert not real.exercise
    assert [i.id for i in service.incidents.recent()] == [real.id]
    assert {i.id for i in service.incidents.recent(include_exercise=True)} == {real.id, drill.id}


def test_listener_receives_new_incident_and_failures_do_not_break_ingest(service: HubService) -> None:
    seen: list[Incident] = []

    def broken(_incident: Incident) -> None:
        raise RuntimeError("listener bug")

    service.journal.add_listener(broken)
    service.journal.add_listener(seen.append)
    result = service.ingest.event(make_message())
    assert result.incident is not None
    assert seen == [result.incident]
    service.ingest.event(make_message())
    assert len(seen) == 1, "duplicates must not notify"


def test_ingest_is_audited(service: HubService) -> None:
    incident = service.ingest.event(make_message()).incident
    assert incident is not None
    [entry] = service.audit.entries(10)
    assert (entry.actor, entry.action, entry.target) == ("system:ingest", "incident.create", str(incident.id))
    assert entry.detail["event_id"] == str(incident.event_ids[0])
    assert entry.at.tzinfo is not None
    service.audit.record("alice", "evidence.view", "a" * 64, {"ip": "127.0.0.1"})
    newest = service.audit.entries(1)[0]
    assert (newest.actor, newest.action, newest.detail) == ("alice", "evidence.view", {"ip": "127.0.0.1"})


def test_zone_and_camera_name_hooks(sqlite_db: Database, evidence: EvidenceStore) -> None:
    service = HubService(
        sqlite_db,
        evidence,
        zone_for_sido={"11": 3}.get,
        camera_names={"cam-01": "City hall east"}.get,
        password_hasher=FAST_HASHER,
    )
    incident = service.ingest.event(make_message(rule=RuleKind.LOITERING)).incident
    assert incident is not None
    assert incident.zone_id == 3
    assert incident.title == "Loitering · person · City hall east"
    assert incident.severity is Severity.MEDIUM
    other = service.ingest.event(make_message(track_id=2, sido_code="26")).incident
    assert other is not None and other.zone_id is None


def test_title_uses_the_cameras_table(service: HubService) -> None:
    service.cameras.upsert(make_camera(name="North gate"))
    incident = service.ingest.event(make_message(object_class=ObjectClass.TWO_WHEELER)).incident
    assert incident is not None
    assert incident.title == "Zone intrusion · two wheeler · North gate"


def test_cameras_round_trip_and_update(service: HubService) -> None:
    service.cameras.upsert(make_camera("cam-02", "B"))
    service.cameras.upsert(make_camera("cam-01", "A"))
    service.cameras.upsert(make_camera("cam-01", "A renamed"))
    assert service.cameras.all() == [make_camera("cam-01", "A renamed"), make_camera("cam-02", "B")]
    assert [e.action for e in service.audit.entries(10)] == ["camera.upsert"] * 3


def test_list_events_newest_first_and_by_camera(service: HubService) -> None:
    t = times(3)
    service.ingest.event(make_message(track_id=1, occurred_at=t[0]))
    service.ingest.event(make_message(track_id=2, occurred_at=t[2], camera_id="cam-02"))
    service.ingest.event(make_message(track_id=3, occurred_at=t[1]))
    assert [e.occurred_at for e in service.incidents.events()] == [t[2], t[1], t[0]]
    assert [e.track_id for e in service.incidents.events(camera_id="cam-01")] == [3, 1]
    assert service.incidents.event(uuid.uuid4()) is None
    assert service.incidents.get(uuid.uuid4()) is None


def test_datetimes_come_back_aware_in_utc(service: HubService) -> None:
    kst = timezone(timedelta(hours=9))
    occurred = datetime(2025, 3, 1, 21, 0, 0, 123456, tzinfo=kst)
    incident = service.ingest.event(make_message(occurred_at=occurred)).incident
    assert incident is not None
    stored = service.incidents.get(incident.id)
    assert stored is not None
    assert stored.first_seen == occurred
    assert stored.first_seen.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is not None
    assert abs(stored.created_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_snapshot_bytes_without_reference_are_refused(service: HubService) -> None:
    event = make_event()
    message = EventMessage.model_construct(event=event, snapshot_jpeg=b"\xff\xd8oops")
    from hwarang.hub.errors import IngestError

    with pytest.raises(IngestError, match="without a snapshot reference"):
        service.ingest.event(message)
    assert service.incidents.health()["events"] == 0


def test_limit_must_be_positive(service: HubService) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1"):
        service.incidents.recent(limit=0)


@pytest.mark.parametrize(
    ("rule", "cls", "expected"),
    [
        (RuleKind.ZONE_INTRUSION, ObjectClass.PERSON, Severity.HIGH),
        (RuleKind.LINE_CROSSING, ObjectClass.VEHICLE, Severity.HIGH),
        (RuleKind.ZONE_INTRUSION, ObjectClass.ANIMAL, Severity.MEDIUM),
        (RuleKind.LOITERING, ObjectClass.PERSON, Severity.MEDIUM),
        (RuleKind.CROWDING, ObjectClass.PERSON, Severity.MEDIUM),
        (RuleKind.ZONE_INTRUSION, ObjectClass.UNKNOWN, Severity.LOW),
        (RuleKind.LOITERING, ObjectClass.UNKNOWN, Severity.LOW),
    ],
)
def test_severity_table(rule: RuleKind, cls: ObjectClass, expected: Severity) -> None:
    assert severity_for(rule, cls) is expected


def test_title_format() -> None:
    assert (
        incident_title(RuleKind.LINE_CROSSING, ObjectClass.VEHICLE, "Pier 3")
        == "Line crossing · vehicle · Pier 3"
    )
