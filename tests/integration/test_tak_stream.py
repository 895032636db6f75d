"""The TAK streaming server on loopback: real sockets, a pytak client, takproto parsing what arrives."""

import asyncio
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import takproto

from hwarang.domain import GeoPoint, Incident, ObjectClass, RuleKind
from hwarang.interop.tak_stream import TakStreamServer

with warnings.catch_warnings():  # pytak warns at import that its optional aiohttp is missing
    warnings.simplefilter("ignore", UserWarning)
    import pytak

pytestmark = pytest.mark.integration

T0 = datetime(2025, 8, 18, 14, 0, tzinfo=UTC)
TIMEOUT = 5.0


def make_incident(*, geo: GeoPoint | None = None, exercise: bool = False) -> Incident:
    return Incident(
        id=uuid.uuid4(),
        seq=1,
        title="Zone intrusion · boat · Pier",
        object_class=ObjectClass.BOAT,
        rule=RuleKind.ZONE_INTRUSION,
        camera_id="cam-pier",
        center_id="incheon-jung",
        sido_code="28",
        sigungu_code="28110",
        geo=geo or GeoPoint(lat=37.4739, lon=126.6166),
        first_seen=T0,
        last_seen=T0,
        event_ids=(uuid.uuid4(),),
        exercise=exercise,
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
async def server() -> AsyncIterator[TakStreamServer]:
    tak = TakStreamServer(accept=lambda incident: not incident.exercise, queue_size=4, max_clients=3)
    await tak.start()
    try:
        yield tak
    finally:
        await tak.stop()


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def _connect(server: TakStreamServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    before = server.stats().clients
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await _until(lambda: server.stats().clients == before + 1)
    return reader, writer


async def _read_event(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"</event>"), TIMEOUT)


async def test_a_published_incident_arrives_as_cot_xml(server: TakStreamServer) -> None:
    reader, writer = await _connect(server)
    incident = make_incident()
    publisher = threading.Thread(target=server.publish, args=(incident,))  # like the hub's ingest thread
    publisher.start()
    publisher.join()
    message = takproto.parse_proto(bytearray(await _read_event(reader)))
    assert message is not None
    cot = message.cotEvent
    assert cot.uid == f"hwarang-incident-{incident.id}"
    assert cot.type == "a-u-S"
    assert (cot.lat, cot.lon) == pytest.approx((37.4739, 126.6166))
    now_ms = datetime.now(UTC).timestamp() * 1000
    assert abs(cot.sendTime - now_ms) < 60_000 and cot.staleTime - cot.sendTime == 600_000
    writer.close()
    await _until(lambda: server.stats().clients == 0)
    assert server.stats().sent == 1


async def test_a_pytak_client_receives_events(server: TakStreamServer) -> None:
    config = {"COT_URL": f"tcp://127.0.0.1:{server.port}", "TAK_PROTO": "0"}
    reader, writer = await pytak.protocol_factory(config)
    await _until(lambda: server.stats().clients == 1)
    worker = pytak.RXWorker(asyncio.Queue(), config, reader)
    first, second = make_incident(), make_incident()
    server.publish(first)
    server.publish(second)
    uids = []
    for _ in range(2):
        data = await asyncio.wait_for(worker.readcot(), TIMEOUT)
        message = takproto.parse_proto(bytearray(data.strip()))
        assert message is not None
        uids.append(message.cotEvent.uid)
    assert uids == [f"hwarang-incident-{first.id}", f"hwarang-incident-{second.id}"]
    writer.close()


async def test_pings_get_pongs_and_client_traffic_is_drained(server: TakStreamServer) -> None:
    reader, writer = await _connect(server)
    writer.write(b"x" * 100_000)  # junk beyond the inbound limit is discarded, not buffered
    writer.write(pytak.gen_cot(uid="ATAK-1", cot_type="t-x-c-t") or b"")
    await writer.drain()
    pong = takproto.parse_proto(bytearray(await _read_event(reader)))
    assert pong is not None and pong.cotEvent.type == "t-x-c-t-r"
    assert server.stats().pings == 1
    writer.close()


async def test_filter_position_and_not_running_are_counted(server: TakStreamServer) -> None:
    reader, writer = await _connect(server)
    server.publish(make_incident(exercise=True))  # refused by accept
    placed = make_incident()
    server.publish(placed)
    message = takproto.parse_proto(bytearray(await _read_event(reader)))
    assert message is not None and message.cotEvent.uid.endswith(str(placed.id))
    stats = server.stats()
    assert (stats.published, stats.filtered, stats.sent) == (2, 1, 1)
    stopped = TakStreamServer(accept=lambda _incident: True)
    stopped.publish(placed)
    assert stopped.stats().not_running == 1
    with pytest.raises(RuntimeError, match="not started"):
        _ = stopped.port
    writer.close()


async def test_a_slow_client_loses_events_instead_of_blocking(server: TakStreamServer) -> None:
    reader, writer = await _connect(server)
    for _ in range(10):  # all fan-outs run before the client's sender: its queue of 4 overflows
        server.publish(make_incident())
    await _until(lambda: server.stats().sent + server.stats().dropped == 10)
    stats = server.stats()
    assert stats.dropped == 6 and stats.sent == 4
    for _ in range(4):
        assert takproto.parse_proto(bytearray(await _read_event(reader))) is not None
    writer.close()


async def test_clients_beyond_the_limit_are_refused_and_stop_disconnects(server: TakStreamServer) -> None:
    connections = [await _connect(server) for _ in range(3)]
    extra_reader, extra_writer = await asyncio.open_connection("127.0.0.1", server.port)
    assert await asyncio.wait_for(extra_reader.read(), TIMEOUT) == b""
    extra_writer.close()
    await extra_writer.wait_closed()
    assert server.stats().refused == 1
    await server.stop()
    for reader, writer in connections:
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()
        await writer.wait_closed()
    assert server.stats().clients == 0
