"""Cursor-on-Target for drones and robots: one air (or ground) track per drone, its operator as a point.

Types follow MIL-STD-2525 as CoT writes it: ``a-u-A-M-F-Q`` (unknown affiliation, air, military
fixed wing, UAV: the code TAK clients draw as a drone) for a drone heard on Remote ID,
``a-f-A-M-F-Q`` for our own drones, ``a-f-G-E-V`` for our own ground robots, and ``a-u-G`` for a
drone's operator on the ground.
Uids are ``hwarang-drone-<track key>`` and ``hwarang-operator-<track key>``, so a TAK map moves the
same markers as reports come in. ``hae`` carries the altitude; ``<track>`` the course and speed.
Built with :func:`hwarang.interop.cot.cot_event_to_xml` and then given the altitude and track.
"""

from datetime import datetime, timedelta

from lxml import etree

from hwarang.domain import DroneTrack
from hwarang.interop.cot import CotEvent, cot_event_to_xml

__all__ = ["DRONE_COT_TYPES", "drone_cot_xml", "drones_cot_document"]

DRONE_COT_TYPES = {
    "unknown_air": "a-u-A-M-F-Q",
    "friendly_air": "a-f-A-M-F-Q",
    "friendly_ground": "a-f-G-E-V",
    "operator": "a-u-G",
}
GROUND_VEHICLES = frozenset({"ground_rover", "surface_boat", "submarine"})
DRONE_CE_M = 10.0
DEFAULT_STALE_S = 30.0


def _type(track: DroneTrack) -> str:
    report = track.latest
    if not report.friendly:
        return DRONE_COT_TYPES["unknown_air"]
    if report.ua_type in GROUND_VEHICLES:
        return DRONE_COT_TYPES["friendly_ground"]
    return DRONE_COT_TYPES["friendly_air"]


def _with_altitude_and_track(
    xml: bytes, hae: float | None, course: float | None, speed: float | None
) -> bytes:
    root = etree.fromstring(xml)
    point = root.find("point")
    if point is not None and hae is not None:
        point.set("hae", repr(round(hae, 1)))
    detail = root.find("detail")
    if detail is not None and (course is not None or speed is not None):
        etree.SubElement(
            detail, "track", course=repr(round(course or 0.0, 1)), speed=repr(round(speed or 0.0, 2))
        )
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


def drone_cot_xml(track: DroneTrack, *, now: datetime, stale_s: float = DEFAULT_STALE_S) -> list[bytes]:
    """The CoT events of one track: the drone, and its operator when the position is known."""
    report = track.latest
    attributes = {
        "track_key": track.key,
        "source": report.source.value,
        "track_id": report.track_id,
        "friendly": "true" if report.friendly else "false",
        "reports": str(track.reports),
    }
    if report.ua_type:
        attributes["ua_type"] = report.ua_type
    if report.operator_id:
        attributes["operator_id"] = report.operator_id
    label = report.self_id or report.ua_type or "drone"
    drone = CotEvent(
        uid=f"hwarang-drone-{track.key}",
        type=_type(track),
        how="m-g" if report.friendly else "m-r",  # own GPS telemetry, or a (radio) report
        time=now,
        start=report.time,
        stale=now + timedelta(seconds=stale_s),
        lat=round(report.lat, 7),
        lon=round(report.lon, 7),
        ce=DRONE_CE_M,
        access="Restricted",
        opex=None,
        callsign=report.track_id,
        remarks=f"{report.source.value} {report.track_id} ({label})",
        hwarang=attributes,
    )
    events = [
        _with_altitude_and_track(cot_event_to_xml(drone), report.alt_m, report.heading_deg, report.speed_ms)
    ]
    if report.operator is not None:
        operator = CotEvent(
            uid=f"hwarang-operator-{track.key}",
            type=DRONE_COT_TYPES["operator"],
            how="m-r",
            time=now,
            start=report.time,
            stale=now + timedelta(seconds=stale_s),
            lat=round(report.operator.lat, 7),
            lon=round(report.operator.lon, 7),
            ce=DRONE_CE_M,
            access="Restricted",
            opex=None,
            callsign=f"{report.track_id} operator",
            remarks=f"Operator of {report.track_id}"
            + (f" ({report.operator_id})" if report.operator_id else ""),
            hwarang={"track_key": track.key, "role": "operator"},
        )
        events.append(_with_altitude_and_track(cot_event_to_xml(operator), report.operator_alt_m, None, None))
    return events


def drones_cot_document(
    tracks: list[DroneTrack], *, now: datetime, stale_s: float = DEFAULT_STALE_S
) -> bytes:
    """Every track's events inside one ``<events>`` element (one XML document for an HTTP export)."""
    root = etree.Element("events")
    for track in tracks:
        for xml in drone_cot_xml(track, now=now, stale_s=stale_s):
            root.append(etree.fromstring(xml))
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result
