"""TAK protocol negotiation on loopback, the way ATAK does it, beside an XML-only client.

ATAK starts every connection in XML, reads the server's version offer (``t-x-takp-v``), asks for
version 1 (``t-x-takp-q``) and reads 0xbf frames only after the response (``t-x-takp-r``,
``status="true"``). A client that never asks keeps getting XML from the same server.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import takproto
from lxml import etree

from hwarang.domain import GeoPoint, Incident, ObjectClass, RuleKind
from hwarang.interop.cot_reader import CotReport, split_protobuf
from hwarang.interop.tak_stream import TakStreamServer

pytestmark = pytest.mark.integration
TIMEOUT = 5.0
T0 = datetime(2025, 8, 18, 14, 0, tzinfo=UTC)

REQUEST = (
    b'<?xml version="1.0" encoding="UTF-8"?><event version="2.0" uid="ANDROID-1" type="t-x-takp-q" how="m-g" '
    b'time="2025-08-18T14:00:00Z" start="2025-08-18T14:00:00Z" stale="2025-08-18T14:01:00Z">'
    b'<point lat="0" lon="0" hae="0" ce="999999" le="999999"/>'
    b'<detail><TakControl><TakRequest version="1"/></TakControl></detail></event>'
)


def _incident() -> Incident:
    return Incident(
        id=uuid.uuid4(),
        seq=1,
        title="Zone intrusion · person",
        object_class=ObjectClass.PERSON,
        rule=RuleKind.ZONE_INTRUSION,
        camera_id="cam-1",
        center_id="seoul-jung",
        sido_code="11",
        sigungu_code="11140",
        geo=GeoPoint(lat=37.5663, lon=126.9779),
        first_seen=T0,
        last_seen=T0,
        event_ids=(uuid.uuid4(),),
        created_at=T0,
        updated_at=T0,
    )


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def _xml_event(reader: asyncio.StreamReader) -> etree._Element:
    data = await asyncio.wait_for(reader.readuntil(b"</event>"), TIMEOUT)
    return etree.fromstring(data.strip())


async def _frame(reader: asyncio.StreamReader) -> bytes:
    buffer = b""
    while True:
        frames, _rest = split_protobuf(buffer)
        if frames:
            return frames[0]
        buffer += await asyncio.wait_for(reader.read(1), TIMEOUT)


def _position_protobuf(uid: str) -> bytes:
    now = datetime.now(UTC)
    xml = (
        f'<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" time="{now:%Y-%m-%dT%H:%M:%S}Z" '
        f'start="{now:%Y-%m-%dT%H:%M:%S}Z" stale="{now + timedelta(minutes=5):%Y-%m-%dT%H:%M:%S}Z">'
        '<point lat="37.5701" lon="126.9820" hae="35.0" ce="8.0" le="9999999.0"/>'
        '<detail><contact callsign="ALPHA-1"/></detail></event>'
    )
    return bytes(takproto.xml2proto(xml.encode(), takproto.TAKProtoVer.STREAM))


async def test_atak_negotiates_protobuf_while_an_xml_client_stays_xml(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[tuple[CotReport, str]] = []
    tak = TakStreamServer(
        accept=lambda _i: True, wire="protobuf", on_cot=lambda r, p: received.append((r, p))
    )
    await tak.start()
    caplog.set_level(logging.DEBUG)
    try:
        atak_reader, atak_writer = await asyncio.open_connection("127.0.0.1", tak.port)
        xml_reader, xml_writer = await asyncio.open_connection("127.0.0.1", tak.port)
        for reader in (atak_reader, xml_reader):  # every connection starts with the offer, in XML
            offer = await _xml_event(reader)
            assert offer.get("type") == "t-x-takp-v"
            assert offer.find("detail/TakControl/TakProtocolSupport").get("version") == "1"

        atak_writer.write(REQUEST)
        await atak_writer.drain()
        response = await _xml_event(atak_reader)
        assert response.get("type") == "t-x-takp-r"
        assert response.find("detail/TakControl/TakResponse").get("status") == "true"
        assert tak.stats().negotiated == 1

        incident = _incident()
        tak.publish(incident)
        frame = await _frame(atak_reader)
        assert frame[0] == 0xBF
        message = takproto.parse_proto(bytearray(frame))
        assert message is not None and message.cotEvent.uid == f"hwarang-incident-{incident.id}"
        as_xml = await _xml_event(xml_reader)
        assert as_xml.get("uid") == f"hwarang-incident-{incident.id}"

        # ATAK now speaks protobuf: its position reaches the handler; the XML client's ping gets XML.
        atak_writer.write(_position_protobuf("ANDROID-1"))
        await atak_writer.drain()
        await _until(lambda: len(received) == 1)
        report, _peer = received[0]
        assert (report.uid, report.callsign, report.kind) == ("ANDROID-1", "ALPHA-1", "position")
        assert (report.lat, report.lon) == pytest.approx((37.5701, 126.9820))
        xml_writer.write(
            b'<event version="2.0" uid="xml-client" type="t-x-c-t" how="h-g-i-g-o" '
            b'time="2025-08-18T14:00:00Z" '
            b'start="2025-08-18T14:00:00Z" stale="2025-08-18T14:00:20Z"><point lat="0" lon="0" hae="0" '
            b'ce="9999999" le="9999999"/><detail/></event>'
        )
        await xml_writer.drain()
        pong = await _xml_event(xml_reader)
        assert pong.get("type") == "t-x-c-t-r"
        # and stop() with both clients still connected ends quietly
        await tak.stop()
        assert await asyncio.wait_for(xml_reader.read(), TIMEOUT) == b""
        for writer in (atak_writer, xml_writer):
            writer.close()
            await writer.wait_closed()
    finally:
        await tak.stop()
    await asyncio.sleep(0.05)
    assert "CancelledError" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_xml_wire_declines_protobuf_requests() -> None:
    tak = TakStreamServer(accept=lambda _i: True, wire="xml")
    await tak.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", tak.port)
        await _until(lambda: tak.stats().clients == 1)
        writer.write(REQUEST)
        await writer.drain()
        response = await _xml_event(reader)
        assert response.find("detail/TakControl/TakResponse").get("status") == "false"
        tak.publish(_incident())
        assert (await _xml_event(reader)).get("type") == "a-u-G-U-C-I"
        writer.close()
    finally:
        await tak.stop()


async def test_invalid_events_are_counted_not_fatal() -> None:
    tak = TakStreamServer(accept=lambda _i: True, on_cot=lambda _r, _p: None)
    await tak.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", tak.port)
        writer.write(
            b'<event version="2.0" uid="x" type="a-f-G" how="m-g" time="2025-08-18T14:00:00Z" '
            b'start="2025-08-18T14:00:00Z" stale="2025-08-18T14:05:00Z"><point lat="97.0" lon="0" hae="0" '
            b'ce="1" le="1"/><detail/></event>'
        )
        await writer.drain()
        await _until(lambda: tak.stats().invalid == 1)
        tak.publish(_incident())
        assert (await _xml_event(reader)).get("type") == "a-u-G-U-C-I"
        writer.close()
    finally:
        await tak.stop()
