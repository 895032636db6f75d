"""NatsBus against a real nats-server: the MemoryBus semantics, over JetStream."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from hwarang.bus import BusError
from hwarang.bus.config import DEADLETTER_STREAM, EVENTS_STREAM, build_bus
from hwarang.bus.nats import NatsBus
from hwarang.bus.server import NatsServerProcess
from hwarang.bus.subjects import dead_letter_subject
from tests.integration.bus.nats_support import bus_config

pytestmark = pytest.mark.integration

SUBJECT = "hwarang.events.11.11140.seoul-junggu-cc"


@pytest.fixture
async def bus(nats_server: NatsServerProcess) -> AsyncIterator[NatsBus]:
    built = await build_bus(bus_config(nats_server))
    assert isinstance(built, NatsBus)
    try:
        yield built
    finally:
        await built.close()


async def test_publish_fetch_ack_and_durable_resume(bus: NatsBus) -> None:
    acks = [await bus.publish(SUBJECT, str(i).encode(), msg_id=f"e{i}") for i in range(3)]
    assert [a.seq for a in acks] == [1, 2, 3]
    assert {a.stream for a in acks} == {EVENTS_STREAM} and not any(a.duplicate for a in acks)
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    first = await sub.fetch(2, 1.0)
    assert [(d.subject, d.data, d.msg_id, d.num_delivered) for d in first] == [
        (SUBJECT, b"0", "e0", 1),
        (SUBJECT, b"1", "e1", 1),
    ]
    for delivery in first:
        await delivery.ack()
    await sub.close()
    resumed = await bus.subscribe("hwarang.events.>", durable="hub")
    assert [d.data for d in await resumed.fetch(10, 1.0)] == [b"2"]


async def test_same_msg_id_is_stored_once(bus: NatsBus) -> None:
    first = await bus.publish(SUBJECT, b"a", msg_id="event-1", headers={"x-kind": "intrusion"})
    again = await bus.publish(SUBJECT, b"a", msg_id="event-1")
    assert again.duplicate and again.seq == first.seq
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    deliveries = await sub.fetch(10, 0.5)
    assert [d.data for d in deliveries] == [b"a"]
    assert deliveries[0].headers["x-kind"] == "intrusion"


async def test_nak_redelivers_with_a_count_and_term_ends_it(bus: NatsBus) -> None:
    await bus.publish(SUBJECT, b"x", msg_id="m")
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    (delivery,) = await sub.fetch(1, 1.0)
    await delivery.nak()
    (again,) = await sub.fetch(1, 2.0)
    assert again.num_delivered == 2 and again.msg_id == "m"
    await again.term()
    assert await sub.fetch(1, 0.3) == []


async def test_nak_with_delay_waits(bus: NatsBus) -> None:
    await bus.publish(SUBJECT, b"x")
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    (delivery,) = await sub.fetch(1, 1.0)
    await delivery.nak(delay_s=0.6)
    assert await sub.fetch(1, 0.2) == []
    (again,) = await sub.fetch(1, 2.0)
    assert again.num_delivered == 2


async def test_unacked_message_is_redelivered_after_ack_wait(bus: NatsBus) -> None:
    sub = await bus.subscribe("hwarang.events.>", durable="hub", ack_wait_s=0.5)
    await bus.publish(SUBJECT, b"x")
    (delivery,) = await sub.fetch(1, 1.0)
    assert delivery.num_delivered == 1
    (again,) = await sub.fetch(1, 3.0)
    assert again.num_delivered == 2 and again.data == b"x"
    await again.ack()


async def test_max_deliver_stops_redelivery(bus: NatsBus) -> None:
    sub = await bus.subscribe("hwarang.events.>", durable="hub", max_deliver=2)
    await bus.publish(SUBJECT, b"x")
    for _ in range(2):
        (delivery,) = await sub.fetch(1, 2.0)
        await delivery.nak()
    assert await sub.fetch(1, 0.5) == []


async def test_fetch_timeout_returns_empty_list_in_time(bus: NatsBus) -> None:
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    started = time.monotonic()
    assert await sub.fetch(10, 0.3) == []
    assert 0.2 <= time.monotonic() - started < 2.0


async def test_fetch_waits_for_a_publish(bus: NatsBus) -> None:
    sub = await bus.subscribe("hwarang.events.>", durable="hub")

    async def later() -> None:
        await asyncio.sleep(0.2)
        await bus.publish(SUBJECT, b"late")

    task = asyncio.create_task(later())
    deliveries = await sub.fetch(1, 3.0)
    await task
    assert [d.data for d in deliveries] == [b"late"]


async def test_durable_resumes_after_the_client_reconnects(nats_server: NatsServerProcess) -> None:
    first = await build_bus(bus_config(nats_server))
    for i in range(4):
        await first.publish(SUBJECT, str(i).encode())
    sub = await first.subscribe("hwarang.events.>", durable="hub", ack_wait_s=0.5)
    got = await sub.fetch(3, 1.0)
    await got[0].ack()
    await got[1].ack()  # the third stays unacked and must come back
    await first.close()
    second = await build_bus(bus_config(nats_server))
    try:
        sub2 = await second.subscribe("hwarang.events.>", durable="hub", ack_wait_s=0.5)
        seen: list[bytes] = []
        deadline = time.monotonic() + 5.0
        while len(seen) < 2 and time.monotonic() < deadline:
            for delivery in await sub2.fetch(10, 0.5):
                seen.append(delivery.data)
                await delivery.ack()
        assert sorted(seen) == [b"2", b"3"]
    finally:
        await second.close()


async def test_dead_letter_subject_has_its_stream(bus: NatsBus) -> None:
    ack = await bus.publish(dead_letter_subject("invalid_event"), b"{bad", headers={"hwarang-error": "json"})
    assert ack.stream == DEADLETTER_STREAM
    sub = await bus.subscribe("hwarang.deadletter.>", durable="dlq")
    (delivery,) = await sub.fetch(1, 1.0)
    assert delivery.headers["hwarang-error"] == "json"


async def test_ensure_stream_is_idempotent_and_updates(bus: NatsBus) -> None:
    assert await bus.ensure_stream("T", ["t.>"], duplicate_window_s=60.0) == "created"
    assert await bus.ensure_stream("T", ["t.>"], duplicate_window_s=60.0) == "unchanged"
    assert await bus.ensure_stream("T", ["t.>"], duplicate_window_s=30.0, max_bytes=1 << 20) == "updated"
    assert await bus.ensure_stream("T", ["t.>"], duplicate_window_s=30.0, max_bytes=1 << 20) == "unchanged"


async def test_errors_are_bus_errors(bus: NatsBus) -> None:
    with pytest.raises(BusError, match="wildcards are not allowed"):
        await bus.publish("hwarang.events.*", b"x")
    with pytest.raises(BusError, match="no stream stores"):
        await bus.publish("nothing.here", b"x")
    with pytest.raises(BusError, match="no stream stores"):
        await bus.subscribe("nothing.>", durable="d")
    await bus.subscribe("hwarang.events.>", durable="d")
    with pytest.raises(BusError, match="already filters"):
        await bus.subscribe("hwarang.events.11.>", durable="d")
    await bus.close()
    with pytest.raises(BusError, match="closed"):
        await bus.publish(SUBJECT, b"x")


async def test_unreachable_server_is_a_clear_error(nats_server: NatsServerProcess) -> None:
    await nats_server.stop()
    with pytest.raises(BusError, match="cannot connect to NATS"):
        await build_bus(bus_config(nats_server, first_connect_wait_s=0.5))


@pytest.mark.parametrize("abrupt", [False, True], ids=["graceful", "sigkill"])
async def test_server_restart_loses_nothing_acked(nats_server: NatsServerProcess, abrupt: bool) -> None:
    bus = await build_bus(bus_config(nats_server))
    try:
        sub = await bus.subscribe("hwarang.events.>", durable="hub")
        for i in range(50):
            await bus.publish(SUBJECT, f"{i}".encode(), msg_id=f"e{i}")
        if abrupt:
            await nats_server.kill()
            await nats_server.start()
        else:
            await nats_server.restart()
        published = 50
        deadline = time.monotonic() + 15.0
        while published < 100 and time.monotonic() < deadline:
            try:
                await bus.publish(SUBJECT, f"{published}".encode(), msg_id=f"e{published}")
            except BusError:  # still reconnecting: the caller retries, the msg id keeps it single
                await asyncio.sleep(0.1)
                continue
            published += 1
        assert published == 100
        seen: list[str] = []
        deadline = time.monotonic() + 15.0
        while len(seen) < 100 and time.monotonic() < deadline:
            try:
                batch = await sub.fetch(64, 0.5)
            except BusError:
                await asyncio.sleep(0.1)
                continue
            for delivery in batch:
                seen.append(delivery.msg_id or "")
                await delivery.ack()
        assert seen == [f"e{i}" for i in range(100)]
        assert isinstance(bus, NatsBus) and bus.reconnects >= 1
    finally:
        await bus.close()
