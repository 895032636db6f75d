"""A synthetic Remote ID flight: encoded OpenDroneID message packs along a route, for tests and replays.

The aircraft flies the waypoints in order at a constant ground speed and altitude; each report (at
``rate_hz``) is one Message Pack with Basic ID, Location/Vector and System (operator position), plus
Operator ID and Self-ID when given. Distances use a local flat-earth approximation per leg, which is
well under a metre off for legs of a few kilometres.
"""

import itertools
import math
from datetime import datetime, timedelta

from hwarang.interop.opendroneid_encode import encode_pack
from hwarang.interop.opendroneid_messages import (
    BasicId,
    HeightReference,
    IdType,
    LocationVector,
    OperationalStatus,
    OperatorId,
    OperatorLocationType,
    SelfId,
    SingleMessage,
    SystemMessage,
    UaType,
)

EARTH_RADIUS_M = 6_371_008.8
LatLon = tuple[float, float]


def generate_flight(
    waypoints: list[LatLon],
    *,
    speed_ms: float,
    alt_m: float,
    operator: LatLon,
    uas_id: str,
    rate_hz: float = 1.0,
    start: datetime,
    ua_type: int = UaType.HELICOPTER_OR_MULTIROTOR,
    operator_id: str = "",
    self_id: str = "",
) -> list[tuple[datetime, bytes]]:
    """(send time, encoded message pack) for every report from the first waypoint to the last.

    ``alt_m`` is both the geodetic altitude and the height over take-off; reports are ``1 / rate_hz``
    apart and the last one is at the final waypoint.
    """
    _check_inputs(waypoints, speed_ms, rate_hz, start, operator)
    legs = [_leg(a, b) for a, b in itertools.pairwise(waypoints)]
    total_m = sum(length for length, _ in legs)
    steps = math.ceil(total_m / speed_ms * rate_hz)
    static: list[SingleMessage] = [
        BasicId(id_type=IdType.SERIAL_NUMBER, ua_type=ua_type, uas_id=uas_id),
    ]
    if operator_id:
        static.append(OperatorId(operator_id=operator_id))
    if self_id:
        static.append(SelfId(description=self_id))
    reports: list[tuple[datetime, bytes]] = []
    for step in range(steps + 1):
        at = start + timedelta(seconds=step / rate_hz)
        (lat, lon), bearing = _position(waypoints, legs, min(speed_ms * step / rate_hz, total_m))
        moving = step < steps
        location = LocationVector(
            status=OperationalStatus.AIRBORNE,
            height_type=HeightReference.OVER_TAKEOFF,
            direction_deg=bearing,
            speed_ms=speed_ms if moving else 0.0,
            vert_speed_ms=0.0,
            lat=lat,
            lon=lon,
            alt_geo_m=alt_m,
            height_m=alt_m,
            horizontal_accuracy=11,  # < 3 m
            vertical_accuracy=4,  # < 10 m
            speed_accuracy=3,  # < 1 m/s
            timestamp_accuracy=1,  # 0.1 s
            timestamp_s=_seconds_after_hour(at),
        )
        system = SystemMessage(
            operator_location_type=OperatorLocationType.LIVE_GNSS,
            operator_lat=operator[0],
            operator_lon=operator[1],
            timestamp=at,
        )
        reports.append((at, encode_pack([*static, location, system])))
    return reports


def _check_inputs(
    waypoints: list[LatLon], speed_ms: float, rate_hz: float, start: datetime, operator: LatLon
) -> None:
    if len(waypoints) < 2:
        raise ValueError(f"a flight needs at least 2 waypoints, got {len(waypoints)}")
    for index, (lat, lon) in enumerate([*waypoints, operator]):
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            where = "operator" if index == len(waypoints) else f"waypoint {index}"
            raise ValueError(f"{where} ({lat}, {lon}) is not a valid WGS84 latitude/longitude")
    if not 0.0 < speed_ms <= 254.25:
        raise ValueError(f"speed_ms must be in (0, 254.25], got {speed_ms}")
    if not 0.0 < rate_hz <= 100.0:
        raise ValueError(f"rate_hz must be in (0, 100], got {rate_hz}")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC)")


def _leg(a: LatLon, b: LatLon) -> tuple[float, float]:
    """Length in metres and bearing in degrees from ``a`` to ``b``."""
    north = math.radians(b[0] - a[0]) * EARTH_RADIUS_M
    east = math.radians(b[1] - a[1]) * EARTH_RADIUS_M * math.cos(math.radians((a[0] + b[0]) / 2))
    bearing = math.degrees(math.atan2(east, north)) % 360.0
    return math.hypot(north, east), 0.0 if bearing >= 360.0 else bearing


def _position(
    waypoints: list[LatLon], legs: list[tuple[float, float]], distance_m: float
) -> tuple[LatLon, float]:
    index = 0
    while index < len(legs) - 1 and distance_m > legs[index][0]:
        distance_m -= legs[index][0]
        index += 1
    length, bearing = legs[index]
    fraction = min(distance_m / length, 1.0) if length else 1.0
    (lat0, lon0), (lat1, lon1) = waypoints[index], waypoints[index + 1]
    return (lat0 + (lat1 - lat0) * fraction, lon0 + (lon1 - lon0) * fraction), bearing


def _seconds_after_hour(at: datetime) -> float:
    return round(at.minute * 60 + at.second + at.microsecond / 1e6, 1) % 3600.0
