"""The CoT reader on the event shapes ATAK sends (self position, a placed marker, pings) in XML and
TAK protobuf (stream and mesh), and its refusals with clear errors."""

import pytest
import takproto

from hwarang.interop.cot_reader import (
    MAX_EVENT_BYTES,
    read_cot,
    read_cot_xml,
    read_tak_protobuf,
    split_protobuf,
    split_xml,
)
from hwarang.interop.errors import CotError

# ATAK's self-position report (SA), as ATAK 4.x sends it over a streaming connection.
ATAK_SA = b"""<?xml version='1.0' encoding='UTF-8' standalone='yes'?>
<event version='2.0' uid='ANDROID-589520ccfcd20f01' type='a-f-G-U-C' time='2025-08-18T05:00:00.123Z'
 start='2025-08-18T05:00:00.123Z' stale='2025-08-18T05:06:15.123Z' how='h-e'>
<point lat='37.5636' lon='126.9976' hae='47.3' ce='9.9' le='9999999.0'/>
<detail><takv os='34' version='4.10.0.7' device='SAMSUNG SM-G991N' platform='ATAK-CIV'/>
<contact endpoint='*:-1:stcp' callsign='JUNG-1'/><uid Droid='JUNG-1'/>
<precisionlocation altsrc='GPS' geopointsrc='GPS'/><__group role='Team Member' name='Cyan'/>
<status battery='88'/><track course='123.4' speed='1.2'/></detail></event>"""

# A spot map marker an ATAK user placed (type b-m-p-s-m), linked to the user who placed it.
ATAK_MARKER = """<?xml version='1.0' encoding='UTF-8' standalone='yes'?>
<event version='2.0' uid='6b5c0b2c-5c63-4c6e-9a8c-6d2c0c7a1b11' type='b-m-p-s-m' time='2025-08-18T05:01:00Z'
 start='2025-08-18T05:01:00Z' stale='2026-08-18T05:01:00Z' how='h-g-i-g-o'>
<point lat='37.5641' lon='126.9983' hae='9999999.0' ce='9999999.0' le='9999999.0'/>
<detail><status readiness='true'/><archive/><link uid='ANDROID-589520ccfcd20f01'
 production_time='2025-08-18T05:01:00Z' type='a-f-G-U-C' parent_callsign='JUNG-1' relation='p-p'/>
<contact callsign='R 1'/><remarks>차량 집결</remarks><color argb='-1'/><precisionlocation altsrc='???'/>
</detail></event>""".encode()


def test_atak_self_position() -> None:
    report = read_cot_xml(ATAK_SA)
    assert (report.uid, report.type, report.kind, report.affiliation) == (
        "ANDROID-589520ccfcd20f01",
        "a-f-G-U-C",
        "position",
        "f",
    )
    assert (report.lat, report.lon, report.hae_m, report.callsign) == (37.5636, 126.9976, 47.3, "JUNG-1")
    assert report.time.tzinfo is not None and report.stale > report.time


def test_atak_marker_names_who_placed_it() -> None:
    report = read_cot_xml(ATAK_MARKER)
    assert report.kind == "marker" and report.sender_uid == "ANDROID-589520ccfcd20f01"
    assert report.hae_m is None and report.remarks == "차량 집결"


@pytest.mark.parametrize("version", [takproto.TAKProtoVer.STREAM, takproto.TAKProtoVer.MESH])
def test_protobuf_stream_and_mesh(version: takproto.TAKProtoVer) -> None:
    data = bytes(takproto.xml2proto(ATAK_SA, version))
    report = read_tak_protobuf(data)
    assert report == read_cot(data)
    assert (report.uid, report.callsign) == ("ANDROID-589520ccfcd20f01", "JUNG-1")
    assert (report.lat, report.lon) == pytest.approx((37.5636, 126.9976))


def test_splitting_streams_in_either_framing() -> None:
    xml_events, rest = split_xml(ATAK_SA + ATAK_MARKER + b"<event ")
    assert len(xml_events) == 2 and rest == b"<event "
    frame = bytes(takproto.xml2proto(ATAK_SA, takproto.TAKProtoVer.STREAM))
    frames, rest = split_protobuf(frame + frame[:5])
    assert frames == [frame] and rest == frame[:5]
    with pytest.raises(CotError, match="0xbf"):
        split_protobuf(b"<event")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((b"lat='37.5636'", b"lat='97.5'"), "lat"),
        ((b"lon='126.9976'", b"lon='abc'"), "not a number"),
        ((b"callsign='JUNG-1'", b"callsign='JUNG&#x7;1'"), "well-formed"),  # XML forbids it outright
        ((b"time='2025-08-18T05:00:00.123Z'", b"time='yesterday'"), "ISO 8601"),
        ((b"type='a-f-G-U-C'", b"type='a f'"), "CoT type"),
        ((b"<point", b"<pointless"), "point"),
    ],
)
def test_invalid_events_are_refused_with_the_reason(change: tuple[bytes, bytes], message: str) -> None:
    with pytest.raises(CotError, match=message):
        read_cot(ATAK_SA.replace(*change))


def test_size_and_doctype_limits() -> None:
    with pytest.raises(CotError, match="bytes"):
        read_cot_xml(ATAK_SA + b" " * MAX_EVENT_BYTES)
    with pytest.raises(CotError, match=r"DOCTYPE|entit"):
        read_cot_xml(b'<!DOCTYPE event [<!ENTITY x "y">]>' + ATAK_SA.split(b"?>", 1)[1])
    with pytest.raises(CotError, match=r"frame|length"):
        read_tak_protobuf(b"\xbf\x05ab")


def test_control_characters_in_protobuf_text_are_refused() -> None:
    message = takproto.parse_proto(bytearray(takproto.xml2proto(ATAK_SA, takproto.TAKProtoVer.STREAM)))
    assert message is not None
    message.cotEvent.detail.contact.callsign = "JUNG\x071"
    data = bytes(takproto.functions.msg2proto(message, takproto.TAKProtoVer.STREAM))
    with pytest.raises(CotError, match="control"):
        read_tak_protobuf(data)
