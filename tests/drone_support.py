"""A protected site with cameras around it and a Remote ID flight into it (drone tests share these)."""

from datetime import datetime

from hwarang.domain import Camera, GeoPoint
from hwarang.geo.geodesy import destination
from hwarang.geo.geofences import GeofenceSet, parse_geofences
from hwarang.hub.service import HubService
from hwarang.interop.remote_id_flight import generate_flight

SITE_CENTER = GeoPoint(lat=37.5636, lon=126.9976)
OPERATOR = destination(SITE_CENTER, 180.0, 900.0)  # the pilot stands 900 m south of the site
UAS_ID = "1581F5FKD229400TEST"
SITE_YAML = """\
sites:
  - id: test-plant
    name: Test power plant
    kind: power_plant
    classification: restricted
    severity: critical
    sigungu_code: "11140"
    floor_m: 0
    ceiling_m: 200
    polygon: [[126.9936, 37.5606], [127.0016, 37.5606], [127.0016, 37.5666], [126.9936, 37.5666]]
"""


def site_fences() -> GeofenceSet:
    """One site of 700 x 670 m around SITE_CENTER, 0..200 m above ground, severity critical."""
    return parse_geofences(SITE_YAML, "test-fences.yaml")


def cameras() -> list[Camera]:
    """Four cameras at 100, 250, 600 and 3,000 m north of the site centre."""
    out = []
    for index, metres in enumerate((250.0, 100.0, 3000.0, 600.0)):
        here = destination(SITE_CENTER, 0.0, metres)
        out.append(
            Camera(
                id=f"cam-{int(metres)}",
                center_id="seoul-jung",
                name=f"Camera {int(metres)} m north",
                position=here,
                sido_code="11",
                sigungu_code="11140",
                heading_deg=float(index * 90),
            )
        )
    return out


def register_cameras(service: HubService) -> None:
    """Upsert :func:`cameras` into the hub."""
    for camera in cameras():
        service.cameras.upsert(camera)


def flight_into_site(start: datetime, *, alt_m: float = 120.0) -> list[tuple[datetime, bytes]]:
    """1 Hz packs at 20 m/s from 600 m south of the site centre to 600 m north (crossing its edge)."""
    south = destination(SITE_CENTER, 180.0, 600.0)
    north = destination(SITE_CENTER, 0.0, 600.0)
    return generate_flight(
        [(south.lat, south.lon), (north.lat, north.lon)],
        speed_ms=20.0,
        alt_m=alt_m,
        operator=(OPERATOR.lat, OPERATOR.lon),
        uas_id=UAS_ID,
        start=start,
        operator_id="KOR-OP-0001",
    )
