"""Cursor-on-Target (CoT 2.0) for TAK clients: incidents as XML events and as TAK protobuf.

An incident is one CoT track, uid ``hwarang-incident-<id>``: later changes of the same incident
replace the marker on a TAK map. The type follows MIL-STD-2525 as CoT writes it, with affiliation
``u`` (unknown: a camera cannot tell friend from foe); see ``COT_TYPES`` and docs/interop.md.
``how`` is ``m-f`` (machine, fused: a hub track built from calibrated camera detections); the
exercise flag travels in ``opex`` (``e-hwarang``), the classification in ``access``. Closed
incidents (resolved, false alarm) go out already stale so TAK clients drop their marker.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from lxml import etree
from takproto import TAKProtoVer
from takproto.functions import msg2proto
from takproto.proto import TakMessage

from hwarang.domain import Incident, IncidentState, ObjectClass
from hwarang.interop.errors import CotError
from hwarang.interop.labels import CLASSIFICATION_KO, OBJECT_KO, RULE_KO, SEVERITY_KO, STATE_KO

COT_TYPES: dict[ObjectClass, str] = {
    ObjectClass.PERSON: "a-u-G-U-C-I",  # ground unit, combat, infantry: a person on foot
    ObjectClass.VEHICLE: "a-u-G-E-V",  # ground equipment, vehicle
    ObjectClass.TWO_WHEELER: "a-u-G-E-V",  # 2525 has no two-wheeler: a ground vehicle
    ObjectClass.BOAT: "a-u-S",  # sea surface track
    ObjectClass.AIRCRAFT: "a-u-A",  # air track (aircraft or drone)
    ObjectClass.ANIMAL: "a-u-G",  # ground track
    ObjectClass.UNKNOWN: "a-u-G",
}
HOW = "m-f"
EXERCISE_OPEX = "e-hwarang"
DEFAULT_STALE_S = 600.0
DEFAULT_CE_M = 25.0
UNKNOWN_METRES = 9999999.0
"""CoT's value for an unknown height (``hae``) or error (``le``)."""
UID_PREFIX = "hwarang-incident-"

Framing = Literal["stream", "mesh"]


@dataclass(frozen=True, slots=True)
class CotEvent:
    """The fields of one CoT event, shared by the XML and protobuf encodings."""

    uid: str
    type: str
    how: str
    time: datetime
    start: datetime
    stale: datetime
    lat: float
    lon: float
    ce: float
    access: str
    opex: str | None
    callsign: str
    remarks: str
    hwarang: dict[str, str]


def cot_time(value: datetime) -> str:
    """A CoT time: UTC, milliseconds, ``Z`` (the form TAK clients and takproto read)."""
    if value.tzinfo is None:
        raise CotError(f"CoT times need a time zone, got naive {value.isoformat()}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _millis(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _remarks(incident: Incident) -> str:
    parts = [
        "[훈련]" if incident.exercise else "",
        incident.title,
        f"{RULE_KO[incident.rule]} ({OBJECT_KO[incident.object_class]})",
        f"상태 {STATE_KO[incident.state]}",
        f"위험도 {SEVERITY_KO[incident.severity]}",
        f"카메라 {incident.camera_id}",
        CLASSIFICATION_KO[incident.classification],
    ]
    return " · ".join(part for part in parts if part)


def cot_event(
    incident: Incident,
    *,
    now: datetime | None = None,
    stale_s: float = DEFAULT_STALE_S,
    ce_m: float = DEFAULT_CE_M,
) -> CotEvent:
    """The CoT event of ``incident`` at ``now`` (default: its last change), valid ``stale_s`` seconds.

    Raises :class:`CotError` when the incident has no position (CoT needs a point).
    """
    if incident.geo is None:
        raise CotError(f"incident {incident.id} has no position yet; a CoT event needs one")
    if not stale_s > 0.0:
        raise CotError(f"stale_s must be > 0, got {stale_s!r}")
    time = now or incident.updated_at
    closed = incident.state in (IncidentState.RESOLVED, IncidentState.FALSE_ALARM)
    hwarang = {
        "incident_id": str(incident.id),
        "seq": str(incident.seq),
        "state": incident.state.value,
        "severity": incident.severity.value,
        "classification": incident.classification.value,
        "object_class": incident.object_class.value,
        "rule": incident.rule.value,
        "camera_id": incident.camera_id,
        "center_id": incident.center_id,
        "sido_code": incident.sido_code,
        "sigungu_code": incident.sigungu_code,
        "exercise": "true" if incident.exercise else "false",
    }
    if incident.zone_id is not None:
        hwarang["zone_id"] = str(incident.zone_id)
    return CotEvent(
        uid=f"{UID_PREFIX}{incident.id}",
        type=COT_TYPES[incident.object_class],
        how=HOW,
        time=time,
        start=time,
        stale=time if closed else time + timedelta(seconds=stale_s),
        lat=round(incident.geo.lat, 7),
        lon=round(incident.geo.lon, 7),
        ce=ce_m,
        access=incident.classification.value.capitalize(),
        opex=EXERCISE_OPEX if incident.exercise else None,
        callsign=f"{OBJECT_KO[incident.object_class]}-{str(incident.id)[:8]}",
        remarks=_remarks(incident),
        hwarang=hwarang,
    )


def _detail_extras(event: CotEvent) -> list[etree._Element]:
    remarks = etree.Element("remarks", source="Hwarang", time=cot_time(event.time))
    remarks.text = event.remarks
    return [remarks, etree.Element("hwarang", event.hwarang)]


def cot_event_to_xml(event: CotEvent) -> bytes:
    """One ``<event>`` as UTF-8 XML with its declaration (how TAK streams frame each event)."""
    attributes = {
        "version": "2.0",
        "uid": event.uid,
        "type": event.type,
        "how": event.how,
        "time": cot_time(event.time),
        "start": cot_time(event.start),
        "stale": cot_time(event.stale),
        "access": event.access,
    }
    if event.opex is not None:
        attributes["opex"] = event.opex
    root = etree.Element("event", attributes)
    etree.SubElement(
        root,
        "point",
        lat=repr(event.lat),
        lon=repr(event.lon),
        hae=repr(UNKNOWN_METRES),
        ce=repr(event.ce),
        le=repr(UNKNOWN_METRES),
    )
    detail = etree.SubElement(root, "detail")
    etree.SubElement(detail, "contact", callsign=event.callsign)
    detail.extend(_detail_extras(event))
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


def cot_event_to_tak_message(event: CotEvent) -> TakMessage:
    """The TAK protocol v1 ``TakMessage`` of ``event`` (unframed)."""
    message = TakMessage()
    cot = message.cotEvent
    cot.type = event.type
    cot.uid = event.uid
    cot.how = event.how
    cot.access = event.access
    if event.opex is not None:
        cot.opex = event.opex
    cot.sendTime = _millis(event.time)
    cot.startTime = _millis(event.start)
    cot.staleTime = _millis(event.stale)
    cot.lat = event.lat
    cot.lon = event.lon
    cot.hae = UNKNOWN_METRES
    cot.ce = event.ce
    cot.le = UNKNOWN_METRES
    cot.detail.contact.callsign = event.callsign
    cot.detail.xmlDetail = "".join(etree.tostring(e, encoding="unicode") for e in _detail_extras(event))
    return message


def incident_to_cot_xml(
    incident: Incident,
    *,
    now: datetime | None = None,
    stale_s: float = DEFAULT_STALE_S,
    ce_m: float = DEFAULT_CE_M,
) -> bytes:
    """``incident`` as one CoT 2.0 XML event (see :func:`cot_event` for the arguments)."""
    return cot_event_to_xml(cot_event(incident, now=now, stale_s=stale_s, ce_m=ce_m))


def incident_to_tak_protobuf(
    incident: Incident,
    *,
    framing: Framing = "stream",
    now: datetime | None = None,
    stale_s: float = DEFAULT_STALE_S,
    ce_m: float = DEFAULT_CE_M,
) -> bytes:
    """``incident`` as TAK protocol v1 protobuf, framed for a TCP stream or for mesh (UDP) use.

    Stream framing is ``0xbf``, a varint length, the ``TakMessage``; mesh is ``0xbf 0x01 0xbf`` and
    the message (as takproto writes them).
    """
    message = cot_event_to_tak_message(cot_event(incident, now=now, stale_s=stale_s, ce_m=ce_m))
    version = TAKProtoVer.STREAM if framing == "stream" else TAKProtoVer.MESH
    return bytes(msg2proto(message, version))
