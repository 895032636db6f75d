"""Cursor-on-Target: the XML and the TAK protobuf parse with takproto and round-trip the track."""

from datetime import UTC, datetime, timedelta

import pytest
import takproto
from lxml import etree

from hwarang.domain import Classification, IncidentState, ObjectClass
from hwarang.interop.cot import (
    COT_TYPES,
    UID_PREFIX,
    cot_event,
    cot_time,
    incident_to_cot_xml,
    incident_to_tak_protobuf,
)
from hwarang.interop.errors import CotError
from tests.unit.interop.interop_support import T0, make_incident

NOW = datetime(2025, 8, 18, 14, 5, 0, 250000, tzinfo=UTC)
NOW_MS = 1755525900250


def _millis(value: datetime) -> int:
    return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_xml_parses_with_takproto_and_keeps_the_track() -> None:
    incident = make_incident(exercise=True)
    xml = incident_to_cot_xml(incident, now=NOW, stale_s=300)
    assert xml.startswith(b"<?xml")
    message = takproto.parse_proto(bytearray(xml))
    assert message is not None
    cot = message.cotEvent
    assert cot.uid == f"hwarang-incident-{incident.id}"
    assert cot.type == "a-u-G-U-C-I"
    assert cot.how == "m-f"
    assert cot.opex == "e-hwarang"
    assert cot.access == "Restricted"
    assert (cot.lat, cot.lon) == pytest.approx((37.5663123, 126.9779123), abs=1e-7)
    assert (cot.hae, cot.ce, cot.le) == (9999999.0, 25.0, 9999999.0)
    assert (cot.sendTime, cot.startTime) == (NOW_MS, NOW_MS)
    assert cot.staleTime == NOW_MS + 300_000
    assert cot.detail.contact.callsign == f"사람-{str(incident.id)[:8]}"
    detail = etree.fromstring(f"<d>{cot.detail.xmlDetail}</d>")
    remarks = detail.find("remarks")
    assert remarks is not None and "[훈련]" in str(remarks.text) and "구역 침입" in str(remarks.text)
    hwarang = detail.find("hwarang")
    assert hwarang is not None
    assert hwarang.attrib["incident_id"] == str(incident.id)
    assert (hwarang.attrib["state"], hwarang.attrib["seq"], hwarang.attrib["zone_id"]) == ("new", "7", "1")


def test_xml_structure_is_cot_2() -> None:
    root = etree.fromstring(incident_to_cot_xml(make_incident()))
    assert root.tag == "event"
    assert root.attrib["version"] == "2.0"
    assert set(root.attrib) >= {"uid", "type", "how", "time", "start", "stale"}
    assert "opex" not in root.attrib
    assert [child.tag for child in root] == ["point", "detail"]
    assert [child.tag for child in root[1]] == ["contact", "remarks", "hwarang"]
    assert root.attrib["time"] == "2025-08-18T14:00:31.000Z"


@pytest.mark.parametrize("framing", ["stream", "mesh"])
def test_protobuf_round_trips_like_the_xml(framing: str) -> None:
    incident = make_incident(classification=Classification.SECRET)
    data = incident_to_tak_protobuf(incident, framing=framing, now=NOW)  # type: ignore[arg-type]
    assert data[:1] == b"\xbf"
    assert (data[:3] == b"\xbf\x01\xbf") is (framing == "mesh")
    from_proto = takproto.parse_proto(bytearray(data))
    from_xml = takproto.parse_proto(bytearray(incident_to_cot_xml(incident, now=NOW)))
    assert from_proto is not None and from_xml is not None
    assert from_proto.cotEvent.uid == f"{UID_PREFIX}{incident.id}"
    assert from_proto.cotEvent.access == "Secret"
    proto_detail = from_proto.cotEvent.detail.xmlDetail
    xml_detail = from_xml.cotEvent.detail.xmlDetail
    assert etree.tostring(etree.fromstring(f"<d>{proto_detail}</d>"), method="c14n") == etree.tostring(
        etree.fromstring(f"<d>{xml_detail}</d>"), method="c14n"
    )
    from_proto.cotEvent.detail.xmlDetail = ""
    from_xml.cotEvent.detail.xmlDetail = ""
    assert from_proto == from_xml


def test_stream_framing_is_length_delimited() -> None:
    data = incident_to_tak_protobuf(make_incident(), now=NOW)
    parsed = takproto.parse_stream(bytearray(data))
    assert parsed.cotEvent.sendTime == NOW_MS


@pytest.mark.parametrize("object_class", list(ObjectClass))
def test_type_by_object_class(object_class: ObjectClass) -> None:
    xml = incident_to_cot_xml(make_incident(object_class=object_class))
    message = takproto.parse_proto(bytearray(xml))
    assert message is not None
    assert message.cotEvent.type == COT_TYPES[object_class]
    assert message.cotEvent.type.startswith("a-u-")


@pytest.mark.parametrize("state", [IncidentState.RESOLVED, IncidentState.FALSE_ALARM])
def test_closed_incidents_are_stale_at_once(state: IncidentState) -> None:
    event = cot_event(make_incident(state=state), now=NOW)
    assert event.stale == event.time == NOW


def test_defaults_to_the_last_change_and_needs_a_position() -> None:
    incident = make_incident(updated=True)
    event = cot_event(incident)
    assert event.time == incident.updated_at == T0 + timedelta(seconds=90)
    assert event.stale == event.time + timedelta(seconds=600)
    with pytest.raises(CotError, match="no position"):
        incident_to_cot_xml(make_incident(geo=None))
    with pytest.raises(CotError, match="stale_s"):
        cot_event(incident, stale_s=0)
    with pytest.raises(CotError, match="naive"):
        cot_time(datetime(2025, 1, 1))


def test_times_are_utc_milliseconds() -> None:
    assert cot_time(datetime(2025, 8, 18, 23, 0, 0, 123456, tzinfo=UTC)) == "2025-08-18T23:00:00.123Z"
    assert _millis(NOW) == NOW_MS
