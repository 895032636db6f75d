"""A full MemoryBus refuses new messages instead of dropping ones a consumer has not acked."""

import asyncio

import pytest

from hwarang.bus import BusError, BusFullError, MemoryBus
from hwarang.bus.base import Delivery, Subscription
from hwarang.bus.subjects import EVENTS_ALL, dead_letter_subject

SUBJECT = "hwarang.events.11.11140.seoul-junggu-cc"
UNREAD = "hwarang.drones.remote_id.t1"  # nobody subscribes to it here


async def _drain(sub: Subscription, *, ack: bool = True) -> list[Delivery]:
    """Fetch until the consumer has nothing more to hand out (bounded)."""
    out: list[Delivery] = []
    for _ in range(100):
        batch = await sub.fetch(10, 0.05)
        if not batch:
            return out
        for delivery in batch:
            if ack:
                await delivery.ack()
        out.extend(batch)
    raise AssertionError("consumer never ran dry")


async def test_full_bus_refuses_and_keeps_every_unacked_message() -> None:
    bus = MemoryBus(max_msgs=3)
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    for i in range(3):
        await bus.publish(SUBJECT, f"e{i}".encode(), msg_id=f"e{i}")

    with pytest.raises(BusFullError) as refused:
        await bus.publish(SUBJECT, b"e3", msg_id="e3")
    assert isinstance(refused.value, BusError)  # publishers that retry on BusError retry this too
    assert refused.value.limit == "max_msgs"
    assert refused.value.messages == 3
    assert refused.value.backlog == {"hub": 3}
    assert "hub (3 unacked)" in str(refused.value) and "max_msgs 3" in str(refused.value)

    fetched = await sub.fetch(10, 0.05)  # fetched but not acked: still owed, still not evictable
    assert [d.data for d in fetched] == [b"e0", b"e1", b"e2"]
    with pytest.raises(BusFullError):
        await bus.publish(SUBJECT, b"e3", msg_id="e3")

    await fetched[0].ack()
    await bus.publish(SUBJECT, b"e3", msg_id="e3")  # the refused msg id was not remembered
    for delivery in fetched[1:]:
        await delivery.ack()
    assert [d.data for d in await _drain(sub)] == [b"e3"]
    stats = bus.stats()
    assert stats["refused_full"] == 2
    assert stats["evicted_acked"] == 1 and stats["evicted_unconsumed"] == 0
    assert stats["degraded"] is None and stats["backlog"] == {}


async def test_every_message_is_delivered_once_after_refusals() -> None:
    bus = MemoryBus(max_msgs=5)
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    accepted: list[bytes] = []
    refusals = 0
    for i in range(40):
        data = f"m{i}".encode()
        while True:  # a publisher that retries: after a refusal the consumer catches up
            try:
                await bus.publish(SUBJECT, data, msg_id=data.decode())
                break
            except BusFullError:
                refusals += 1
                for delivery in await sub.fetch(2, 0.05):
                    accepted.append(delivery.data)
                    await delivery.ack()
    accepted.extend(d.data for d in await _drain(sub))
    assert accepted == [f"m{i}".encode() for i in range(40)]
    assert refusals == bus.stats()["refused_full"] and refusals > 0
    assert len(await sub.fetch(10, 0.05)) == 0


async def test_acked_go_first_then_unconsumed_and_owed_never() -> None:
    bus = MemoryBus(max_msgs=4)
    await bus.publish(UNREAD, b"u0")  # oldest, but nobody subscribes to it
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    for i in range(3):
        await bus.publish(SUBJECT, f"e{i}".encode())
    e0, e1, e2 = await sub.fetch(10, 0.05)
    await e1.ack()

    await bus.publish(SUBJECT, b"e3")  # room from e1 (acked), not from the older u0
    assert bus.stats()["evicted_acked"] == 1 and bus.stats()["evicted_unconsumed"] == 0
    await bus.publish(SUBJECT, b"e4")  # nothing acked left: u0, owed to no consumer, goes
    assert bus.stats()["evicted_unconsumed"] == 1
    with pytest.raises(BusFullError):  # e0, e2, e3, e4 are all owed to "hub"
        await bus.publish(SUBJECT, b"e5")

    await e0.nak()
    await e2.ack()
    await bus.publish(SUBJECT, b"e5")
    redelivered = await _drain(sub)
    assert sorted(d.data for d in redelivered) == [b"e0", b"e3", b"e4", b"e5"]
    assert [d.num_delivered for d in redelivered if d.data == b"e0"] == [2]


async def test_max_bytes_refuses_with_its_name() -> None:
    bus = MemoryBus(max_bytes=10)
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    await bus.publish(SUBJECT, b"123456")
    with pytest.raises(BusFullError) as refused:
        await bus.publish(SUBJECT, b"abcdef")
    assert refused.value.limit == "max_bytes" and refused.value.size_bytes == 6
    assert "a 6-byte message refused" in str(refused.value)
    await _drain(sub)
    await bus.publish(SUBJECT, b"abcdef")
    assert [d.data for d in await _drain(sub)] == [b"abcdef"]


async def test_a_consumer_created_later_is_owed_what_is_stored() -> None:
    bus = MemoryBus(max_msgs=2)
    await bus.publish(SUBJECT, b"a")
    await bus.publish(SUBJECT, b"b")
    late = await bus.subscribe(EVENTS_ALL, durable="late")
    with pytest.raises(BusFullError) as refused:
        await bus.publish(SUBJECT, b"c")
    assert refused.value.backlog == {"late": 2}
    assert [d.data for d in await _drain(late)] == [b"a", b"b"]


async def test_two_consumers_both_must_ack() -> None:
    bus = MemoryBus(max_msgs=1)
    fast = await bus.subscribe(EVENTS_ALL, durable="fast")
    slow = await bus.subscribe("hwarang.events.11.>", durable="slow")
    await bus.publish(SUBJECT, b"x")
    await _drain(fast)
    with pytest.raises(BusFullError) as refused:
        await bus.publish(SUBJECT, b"y")
    assert refused.value.backlog == {"slow": 1}
    await _drain(slow)
    await bus.publish(SUBJECT, b"y")
    assert [d.data for d in await _drain(slow)] == [b"y"]


async def test_full_state_is_reported_to_watchers_and_stats() -> None:
    bus = MemoryBus(max_msgs=1)
    seen: list[str | None] = []
    bus.watch_full(seen.append)
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    await bus.publish(SUBJECT, b"x")
    with pytest.raises(BusFullError):
        await bus.publish(SUBJECT, b"y")
    reason = bus.stats()["degraded"]
    assert isinstance(reason, str) and "hub (1 unacked)" in reason
    assert seen == [reason] and bus.full_reason == reason
    await _drain(sub)  # the ack frees room: no longer full, before any new publish
    assert seen == [reason, None] and bus.stats()["degraded"] is None


async def test_an_exhausted_message_is_dead_lettered_even_when_full() -> None:
    bus = MemoryBus(max_msgs=1)
    sub = await bus.subscribe(EVENTS_ALL, durable="gives-up", ack_wait_s=0.01, max_deliver=1)
    await bus.publish(SUBJECT, b"payload")
    assert len(await sub.fetch(1, 1.0)) == 1
    await asyncio.sleep(0.05)
    assert await sub.fetch(1, 0.1) == []  # given up: moved to the dead letters over the limit
    dead = await bus.subscribe(dead_letter_subject("max_deliveries"), durable="dead")
    [letter] = await dead.fetch(5, 0.5)
    assert letter.data == b"payload"
    assert bus.stats()["dead_lettered_max_deliver"] == 1
