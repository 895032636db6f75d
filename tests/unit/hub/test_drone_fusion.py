"""Visual drones against Remote ID: cooperative ones are associated, non-cooperative ones rate higher."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hwarang.domain import DroneReport, DroneSource, Incident, ObjectClass, Severity
from hwarang.domain.drone import DroneAlertKind
from hwarang.geo.geodesy import destination
from hwarang.geo.geofences import GeofenceSet
from hwarang.hub.drones.config import DroneConfig
from hwarang.hub.drones.hub import DroneHub
from hwarang.hub.drones.severity import raise_one_level
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentHistoryRow
from tests.drone_support import SITE_CENTER, UAS_ID
from tests.hub_support import FAST_HASHER, make_message

T0 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def fused(sqlite_db: Database, evidence: EvidenceStore) -> tuple[HubService, DroneHub]:
    service = HubService(
        sqlite_db,
        evidence,
        password_hasher=FAST_HASHER,
        fusion=FusionConfig(),
        drones=DroneConfig(fusion_radius_m=300.0, fusion_window_s=5.0),
        fences=GeofenceSet([]),
    )
    return service, service.drones


def remote_id(seconds: float, north_m: float = 0.0) -> DroneReport:
    here = destination(SITE_CENTER, 0.0, north_m)
    return DroneReport(
        source=DroneSource.REMOTE_ID,
        track_id=UAS_ID,
        lat=here.lat,
        lon=here.lon,
        alt_m=80.0,
        time=T0 + timedelta(seconds=seconds),
    )


def visual(service: HubService, seconds: float, track_id: int) -> Incident:
    message = make_message(
        with_snapshot=False,
        object_class=ObjectClass.AIRCRAFT,
        occurred_at=T0 + timedelta(seconds=seconds),
        track_id=track_id,
        geo=SITE_CENTER,
    )
    incident = service.ingest.event(message).incident
    assert incident is not None
    return incident


def severity_rules(service: HubService, incident: Incident) -> list[str]:
    with service.database.session() as session:
        stmt = select(IncidentHistoryRow.detail).where(IncidentHistoryRow.incident_id == incident.id)
        return [rule for detail in session.scalars(stmt) for rule in detail.get("severity_rules", [])]


def test_a_non_cooperative_drone_rates_higher_than_a_cooperative_one_in_the_same_place(
    fused: tuple[HubService, DroneHub],
) -> None:
    service, drones = fused
    drones.apply([remote_id(0.0, north_m=120.0)])  # a Remote ID drone 120 m from the camera's sighting
    cooperative = visual(service, 2.0, track_id=1)
    non_cooperative = visual(service, 600.0, track_id=2)  # same place, ten minutes later: no Remote ID
    assert cooperative.severity is Severity.MEDIUM
    assert non_cooperative.severity is Severity.HIGH
    assert raise_one_level(cooperative.severity) is non_cooperative.severity
    assert [r for r in severity_rules(service, cooperative) if r.startswith("drone-")] == [
        f"drone-cooperative: remote_id {UAS_ID} 120 m away"
    ]
    assert severity_rules(service, non_cooperative)[-1].startswith(
        "drone-non-cooperative: no Remote ID within 300 m"
    )
    by_event = {alert.event_id: alert for alert in drones.alerts()}
    coop_alert = by_event[cooperative.event_ids[0]]
    assert coop_alert.kind is DroneAlertKind.VISUAL_COOPERATIVE and coop_alert.uas_id == UAS_ID
    assert coop_alert.incident_id == cooperative.id and coop_alert.distance_m == pytest.approx(120.0, abs=0.5)
    other = by_event[non_cooperative.event_ids[0]]
    assert other.kind is DroneAlertKind.VISUAL_NON_COOPERATIVE and other.uas_id is None
    assert other.incident_id == non_cooperative.id and other.severity is Severity.HIGH
    assert drones.alerts(uas_id=UAS_ID) == [coop_alert]


def test_a_remote_id_drone_too_far_or_too_long_ago_does_not_make_it_cooperative(
    fused: tuple[HubService, DroneHub],
) -> None:
    service, drones = fused
    drones.apply([remote_id(0.0, north_m=400.0)])
    assert visual(service, 1.0, track_id=1).severity is Severity.HIGH  # 400 m > 300 m
    drones.apply([remote_id(100.0)])
    assert visual(service, 106.0, track_id=2).severity is Severity.HIGH  # 6 s > 5 s


def test_other_classes_are_left_alone(fused: tuple[HubService, DroneHub]) -> None:
    service, _ = fused
    incident = service.ingest.event(
        make_message(with_snapshot=False, object_class=ObjectClass.PERSON)
    ).incident
    assert incident is not None and incident.severity is Severity.HIGH  # the built-in person rule
    assert not [r for r in severity_rules(service, incident) if r.startswith("drone-")]
