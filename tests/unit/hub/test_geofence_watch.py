"""Geofence watch through the DroneHub: enter once per stay, leave, altitude band, event and alert."""

from datetime import UTC, datetime, timedelta

import pytest

from hwarang.domain import DroneReport, DroneSource, ObjectClass, RuleKind, Severity
from hwarang.domain.drone import DroneAlertKind
from hwarang.geo.geodesy import destination, haversine_m
from hwarang.hub.drones.config import DroneConfig
from hwarang.hub.drones.geofences import GeofenceWatch
from hwarang.hub.drones.hub import DroneHub
from hwarang.hub.errors import StoreError
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.drone_support import OPERATOR, SITE_CENTER, UAS_ID, register_cameras, site_fences
from tests.hub_support import FAST_HASHER

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)  # restarts restore recent tracks


def at(seconds: float, south_m: float, *, height_m: float = 120.0, **kw: object) -> DroneReport:
    here = destination(SITE_CENTER, 180.0, south_m)
    fields: dict[str, object] = {
        "source": DroneSource.REMOTE_ID,
        "track_id": UAS_ID,
        "lat": here.lat,
        "lon": here.lon,
        "height_m": height_m,
        "time": T0 + timedelta(seconds=seconds),
        "operator": OPERATOR,
        "operator_alt_m": 30.0,
    }
    fields.update(kw)
    return DroneReport.model_validate(fields)


@pytest.fixture
def service(sqlite_db: Database, evidence: EvidenceStore) -> HubService:
    return HubService(
        sqlite_db, evidence, password_hasher=FAST_HASHER, drones=DroneConfig(), fences=site_fences()
    )


@pytest.fixture
def drones(service: HubService) -> DroneHub:
    register_cameras(service)
    return service.drones


def test_enter_once_per_stay_then_leave_then_enter_again() -> None:
    watch = GeofenceWatch(site_fences())
    kinds = [
        [c.kind for c in watch.observe(at(i, south))] for i, south in enumerate((500, 300, 100, 0, 500, 200))
    ]
    assert kinds == [[], ["enter"], [], [], ["leave"], ["enter"]]


def test_the_altitude_band_decides_and_friendly_units_never_cross() -> None:
    watch = GeofenceWatch(site_fences())
    assert watch.observe(at(0, 0, height_m=250.0)) == []  # over the 200 m ceiling
    assert [c.kind for c in watch.observe(at(1, 0, height_m=150.0))] == ["enter"]  # descended into the band
    assert [c.kind for c in watch.observe(at(2, 0, height_m=210.0))] == ["leave"]  # climbed out
    ours = at(3, 0, track_id="sys7", source=DroneSource.MAVLINK, friendly=True)
    assert watch.observe(ours) == []


def test_entering_raises_an_event_and_alert_with_operator_and_nearest_cameras(
    drones: DroneHub, service: HubService
) -> None:
    outside = drones.apply([at(0, 500)])
    assert outside.accepted == 1 and outside.alerts == [] and outside.event_ids == []
    entered = drones.apply([at(1, 300)])
    assert len(entered.event_ids) == 1
    event = service.incidents.event(entered.event_ids[0])
    assert event is not None
    assert (event.rule, event.object_class, event.rule_name) == (
        RuleKind.ZONE_INTRUSION,
        ObjectClass.AIRCRAFT,
        "geofence:test-plant",
    )
    assert event.sigungu_code == "11140" and event.camera_id == "cam-100"  # nearest camera
    [alert] = entered.alerts
    assert alert.kind is DroneAlertKind.GEOFENCE_ENTER and alert.event_id == event.id
    assert alert.uas_id == UAS_ID and alert.site_id == "test-plant"
    assert alert.operator == OPERATOR and alert.operator_alt_m == 30.0
    assert [c.camera_id for c in alert.cameras] == ["cam-100", "cam-250", "cam-600"]
    assert alert.cameras[0].distance_m == pytest.approx(
        haversine_m(event.geo or SITE_CENTER, SITE_CENTER) + 100, abs=1
    )
    assert f"operator at {OPERATOR.lat:.6f}, {OPERATOR.lon:.6f}" in alert.description
    assert "nearest cameras: cam-100" in alert.description
    incident = service.incidents.get(alert.incident_id) if alert.incident_id else None
    assert incident is not None and incident.severity is Severity.CRITICAL  # the site's severity
    # staying inside raises nothing more; leaving is recorded as an alert without an event
    assert drones.apply([at(2, 200), at(3, 0)]).alerts == []
    left = drones.apply([at(4, -400)])
    assert [a.kind for a in left.alerts] == [DroneAlertKind.GEOFENCE_LEAVE] and left.event_ids == []
    stored = drones.alerts()
    assert [a.kind for a in stored] == [DroneAlertKind.GEOFENCE_LEAVE, DroneAlertKind.GEOFENCE_ENTER]
    assert stored[1].operator == OPERATOR and stored[1].incident_id == incident.id


def test_a_restarted_hub_keeps_tracks_and_does_not_enter_twice(drones: DroneHub, service: HubService) -> None:
    drones.apply([at(0, 500), at(1, 300)])
    again = DroneHub(service.database, service.ingest, DroneConfig(), fences=site_fences())
    assert [t.key for t in again.tracks()] == [f"remote_id:{UAS_ID}"]
    assert again.apply([at(2, 200)]).alerts == []
    assert [a.kind for a in again.apply([at(3, 500)]).alerts] == [DroneAlertKind.GEOFENCE_LEAVE]


def test_with_fusion_the_geofence_incident_is_rated_by_the_site(
    sqlite_db: Database, evidence: EvidenceStore
) -> None:
    service = HubService(
        sqlite_db,
        evidence,
        password_hasher=FAST_HASHER,
        fusion=FusionConfig(),
        drones=DroneConfig(),
        fences=site_fences(),
    )
    register_cameras(service)
    hub = service.drones
    [alert] = hub.apply([at(0, 500), at(1, 300)]).alerts
    assert alert.severity is Severity.CRITICAL


def test_tracks_and_alerts_are_stored_on_each_engine(engine_db: Database, evidence: EvidenceStore) -> None:
    service = HubService(
        engine_db, evidence, password_hasher=FAST_HASHER, drones=DroneConfig(), fences=site_fences()
    )
    register_cameras(service)
    hub = service.drones
    [alert] = hub.apply([at(0, 500), at(1, 300)]).alerts
    assert hub.alerts(event_id=alert.event_id) == [alert]
    assert hub.alerts(incident_id=alert.incident_id) == [alert]
    [(track, inside)] = hub.store.tracks_since(T0 - timedelta(seconds=1))
    assert track.key == f"remote_id:{UAS_ID}" and track.reports == 2 and inside == ("test-plant",)
    assert track.latest.operator == OPERATOR


def test_when_storing_fails_the_next_report_enters_again(
    drones: DroneHub, service: HubService, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.ingest.batch

    def failing(messages: object) -> object:
        raise StoreError("database unreachable (injected)")

    monkeypatch.setattr(service.ingest, "batch", failing)
    with pytest.raises(StoreError, match="injected"):
        drones.apply([at(0, 500), at(1, 300)])
    assert drones.watch.inside(f"remote_id:{UAS_ID}") == []
    monkeypatch.setattr(service.ingest, "batch", real)
    [alert] = drones.apply([at(2, 250)]).alerts
    assert alert.kind is DroneAlertKind.GEOFENCE_ENTER and alert.incident_id is not None
