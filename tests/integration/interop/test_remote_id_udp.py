"""The Remote ID UDP receiver over real loopback UDP: good and corrupt datagrams, states and counters."""

import asyncio
import socket
from datetime import UTC, datetime

import pytest

from hwarang.interop.opendroneid import (
    BasicId,
    LocationVector,
    OperatorId,
    SystemMessage,
    encode_message,
    encode_pack,
)
from hwarang.interop.remote_id_flight import generate_flight
from hwarang.interop.remote_id_state import RemoteIdState
from hwarang.interop.remote_id_udp import RemoteIdUdpConfig, RemoteIdUdpReceiver

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 10, 30, 0, tzinfo=UTC)


class _Sender(asyncio.DatagramProtocol):
    pass


async def _sender(target: tuple[str, int]) -> asyncio.DatagramTransport:
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(_Sender, remote_addr=target)
    return transport


async def _wait_for(receiver: RemoteIdUdpReceiver, datagrams: int) -> None:
    async with asyncio.timeout(5.0):
        while receiver.stats.datagrams < datagrams:  # noqa: ASYNC110 - polling the public counters
            await asyncio.sleep(0.01)


async def test_good_and_corrupt_datagrams() -> None:
    states: list[RemoteIdState] = []
    receiver = RemoteIdUdpReceiver(states.append, RemoteIdUdpConfig(port=0), clock=lambda: NOW)
    async with receiver:
        host, port = receiver.address
        assert host == "127.0.0.1"
        sender = await _sender((host, port))
        try:
            pack = encode_pack(
                [
                    BasicId(uas_id="KR-UDP-1"),
                    LocationVector(lat=37.5, lon=127.0, alt_geo_m=100.0, timestamp_s=1799.0),
                    SystemMessage(operator_lat=37.49, operator_lon=126.99),
                ]
            )
            corrupt_location = bytearray(encode_message(LocationVector(lat=37.6, lon=127.1)))
            corrupt_location[5:9] = (951_000_000).to_bytes(4, "little", signed=True)
            datagrams = [
                pack,  # one pack: 3 messages, 1 state
                bytes.fromhex("13deadbeef0042"),  # 7 bytes of a Location: truncated
                bytes([0x72]) + bytes(24),  # unknown message type 0x7
                bytes([0xF2, 0x19, 0x0C]),  # pack claiming 12 messages
                bytes(corrupt_location)  # bad latitude, then a good Operator ID and Location
                + encode_message(OperatorId(operator_id="KOR-OP-1"))
                + encode_message(LocationVector(lat=37.51, lon=127.01, timestamp_s=1800.5)),
            ]
            for datagram in datagrams:
                sender.sendto(datagram)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
                raw.sendto(b"", (host, port))  # asyncio transports never send an empty datagram
            await _wait_for(receiver, len(datagrams) + 1)
        finally:
            sender.close()

    stats = receiver.stats
    assert stats.datagrams == 6  # 5 + the empty one
    assert stats.messages == 3 + 2
    assert stats.states == 2
    assert stats.errors == 4  # truncated, unknown type, pack count, latitude; the empty datagram is no error
    assert stats.last_error is not None and "latitude 95.1 out of range" in stats.last_error
    assert stats.last_error_at == NOW
    assert len(states) == 2
    first, second = states
    assert (first.uas_id, first.lat, first.lon, first.alt_geo_m) == ("KR-UDP-1", 37.5, 127.0, 100.0)
    assert first.timestamp == datetime(2026, 11, 24, 10, 29, 59, tzinfo=UTC)
    assert (first.operator_lat, first.operator_lon) == (37.49, 126.99)
    assert second.sender == first.sender  # same source address
    assert (second.uas_id, second.operator_id, second.lat) == ("KR-UDP-1", "KOR-OP-1", 37.51)
    assert second.timestamp == datetime(2026, 11, 24, 10, 30, 0, 500000, tzinfo=UTC)


async def test_callback_failure_and_socket_keep_running() -> None:
    calls: list[RemoteIdState] = []

    def flaky(state: RemoteIdState) -> None:
        calls.append(state)
        if len(calls) == 1:
            raise RuntimeError("consumer bug")

    flight = generate_flight(
        [(37.5, 127.0), (37.501, 127.0)],
        speed_ms=10.0,
        alt_m=60.0,
        operator=(37.499, 127.0),
        uas_id="KR-FLIGHT-1",
        start=NOW,
    )
    async with RemoteIdUdpReceiver(flaky, RemoteIdUdpConfig(port=0)) as receiver:
        sender = await _sender(receiver.address)
        try:
            for _, datagram in flight:
                sender.sendto(datagram)
            await _wait_for(receiver, len(flight))
        finally:
            sender.close()
    assert len(calls) == len(flight)
    assert receiver.stats.callback_errors == 1
    assert receiver.stats.last_error == "callback: RuntimeError('consumer bug')"
    assert all(state.uas_id == "KR-FLIGHT-1" for state in calls)
    assert calls[-1].lat == pytest.approx(37.501, abs=1e-7)


async def test_key_by_uas_id_separates_drones_relayed_from_one_address() -> None:
    states: list[RemoteIdState] = []
    config = RemoteIdUdpConfig(port=0, key_by="uas_id")
    async with RemoteIdUdpReceiver(states.append, config) as receiver:
        sender = await _sender(receiver.address)
        try:
            for uas_id, lat in (("DRONE-A", 37.1), ("DRONE-B", 37.2)):
                sender.sendto(encode_pack([BasicId(uas_id=uas_id), LocationVector(lat=lat, lon=127.0)]))
            sender.sendto(encode_message(LocationVector(lat=37.25, lon=127.0)))  # no ID: last heard (B)
            await _wait_for(receiver, 3)
        finally:
            sender.close()
    assert [(s.sender, s.uas_id, s.lat) for s in states] == [
        ("DRONE-A", "DRONE-A", 37.1),
        ("DRONE-B", "DRONE-B", 37.2),
        ("DRONE-B", "DRONE-B", 37.25),
    ]


async def test_start_twice_and_address_before_start_are_errors() -> None:
    receiver = RemoteIdUdpReceiver(lambda state: None, RemoteIdUdpConfig(port=0))
    with pytest.raises(RuntimeError, match="not started"):
        _ = receiver.address
    async with receiver:
        with pytest.raises(RuntimeError, match="already started"):
            await receiver.start()
