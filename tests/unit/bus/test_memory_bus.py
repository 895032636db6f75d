"""MemoryBus: JetStream semantics in one process (de-duplication, durable consumers, redelivery)."""

import asyncio

import pytest

from hwarang.bus import BusError, MemoryBus, event_subject
from hwarang.bus.deadletter import ORIGINAL_SUBJECT_HEADER
from hwarang.bus.subjects import EVENTS_ALL, dead_letter_subject, subject_matches

SUBJECT = "hwarang.events.11.11140.seoul-junggu-cc"


async def test_publish_is_acked_with_increasing_sequence() -> None:
    bus = MemoryBus()
    first = await bus.publish(SUBJECT, b"a")
    second = await bus.publish(SUBJECT, b"b")
    assert (first.seq, second.seq) == (1, 2)
    assert not first.duplicate and not second.duplicate


async def test_same_msg_id_is_stored_once() -> None:
    bus = MemoryBus()
    first = await bus.publish(SUBJECT, b"a", msg_id="event-1")
    again = await bus.publish(SUBJECT, b"a", msg_id="event-1")
    assert again.duplicate and again.seq == first.seq
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    assert [d.data for d in await sub.fetch(10, 0.05)] == [b"a"]


async def test_msg_id_window_expires() -> None:
    bus = MemoryBus(duplicate_window_s=0.05)
    await bus.publish(SUBJECT, b"a", msg_id="event-1")
    await asyncio.sleep(0.1)
    later = await bus.publish(SUBJECT, b"a", msg_id="event-1")
    assert not later.duplicate and later.seq == 2


async def test_consumer_gets_only_matching_subjects_in_order() -> None:
    bus = MemoryBus()
    await bus.publish(SUBJECT, b"1")
    await bus.publish("hwarang.deadletter.invalid_event", b"x")
    await bus.publish("hwarang.events.26.26470.busan-cc", b"2")
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    deliveries = await sub.fetch(10, 0.05)
    assert [d.data for d in deliveries] == [b"1", b"2"]
    assert [d.subject for d in deliveries] == [SUBJECT, "hwarang.events.26.26470.busan-cc"]


async def test_acked_messages_are_not_redelivered_and_durable_resumes() -> None:
    bus = MemoryBus()
    for i in range(3):
        await bus.publish(SUBJECT, str(i).encode())
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    first = await sub.fetch(2, 0.05)
    for delivery in first:
        await delivery.ack()
    await sub.close()
    resumed = await bus.subscribe("hwarang.events.>", durable="hub")
    rest = await resumed.fetch(10, 0.05)
    assert [d.data for d in rest] == [b"2"]


async def test_nak_redelivers_with_a_count() -> None:
    bus = MemoryBus()
    await bus.publish(SUBJECT, b"x", msg_id="m")
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    (delivery,) = await sub.fetch(1, 0.05)
    await delivery.nak()
    (again,) = await sub.fetch(1, 0.5)
    assert again.num_delivered == 2 and again.msg_id == "m"
    await again.ack()
    assert await sub.fetch(1, 0.05) == []
    assert bus.pending_count("hub") == 0


async def test_unacked_message_is_redelivered_after_ack_wait() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("hwarang.events.>", durable="hub", ack_wait_s=0.1)
    await bus.publish(SUBJECT, b"x")
    (delivery,) = await sub.fetch(1, 0.05)
    assert delivery.num_delivered == 1
    (again,) = await sub.fetch(1, 1.0)
    assert again.num_delivered == 2


async def test_max_deliver_stops_redelivery() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("hwarang.events.>", durable="hub", max_deliver=2)
    await bus.publish(SUBJECT, b"x")
    for _ in range(2):
        (delivery,) = await sub.fetch(1, 0.5)
        await delivery.nak()
    assert await sub.fetch(1, 0.1) == []


async def test_term_ends_delivery_without_success() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    await bus.publish(SUBJECT, b"x")
    (delivery,) = await sub.fetch(1, 0.05)
    await delivery.term()
    assert await sub.fetch(1, 0.1) == []


async def test_fetch_waits_for_a_publish() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("hwarang.events.>", durable="hub")

    async def later() -> None:
        await asyncio.sleep(0.05)
        await bus.publish(SUBJECT, b"late")

    task = asyncio.create_task(later())
    deliveries = await sub.fetch(1, 2.0)
    await task
    assert [d.data for d in deliveries] == [b"late"]


async def test_bounded_stream_discards_the_oldest_nobody_consumes() -> None:
    bus = MemoryBus(max_msgs=2)  # no consumer yet: like a JetStream limits stream (full bus: see *_full.py)
    for i in range(3):
        await bus.publish(SUBJECT, str(i).encode())
    sub = await bus.subscribe("hwarang.events.>", durable="hub")
    assert [d.data for d in await sub.fetch(10, 0.05)] == [b"1", b"2"]


async def test_bad_subjects_and_closed_bus_are_errors() -> None:
    bus = MemoryBus()
    with pytest.raises(BusError, match="wildcards are not allowed"):
        await bus.publish("hwarang.events.*", b"x")
    with pytest.raises(BusError, match="empty or blank token"):
        await bus.publish("hwarang..events", b"x")
    with pytest.raises(BusError, match="'>' must be the last token"):
        await bus.subscribe("hwarang.>.x", durable="d")
    await bus.subscribe("hwarang.events.>", durable="d")
    with pytest.raises(BusError, match="already filters"):
        await bus.subscribe("hwarang.other.>", durable="d")
    await bus.close()
    with pytest.raises(BusError, match="closed"):
        await bus.publish(SUBJECT, b"x")


def test_event_subject_and_wildcards() -> None:
    subject = event_subject("11", "11140", "seoul-junggu-cc")
    assert subject == SUBJECT
    assert subject_matches("hwarang.events.>", subject)
    assert subject_matches("hwarang.events.11.*.*", subject)
    assert not subject_matches("hwarang.events.26.>", subject)
    assert not subject_matches("hwarang.events.11.11140", subject)
    assert not subject_matches("hwarang.events.>", "hwarang.events")
    assert dead_letter_subject("invalid_event") == "hwarang.deadletter.invalid_event"
    with pytest.raises(BusError, match="center"):
        event_subject("11", "11140", "bad.center")


async def test_an_exhausted_message_is_dead_lettered_not_dropped() -> None:
    bus = MemoryBus()
    await bus.publish("hwarang.events.11.11140.c", b"payload")
    sub = await bus.subscribe(EVENTS_ALL, durable="gives-up", ack_wait_s=0.01, max_deliver=1)
    assert len(await sub.fetch(batch=1, timeout_s=1.0)) == 1
    await asyncio.sleep(0.05)
    assert await sub.fetch(batch=1, timeout_s=0.1) == []
    dead = await bus.subscribe(dead_letter_subject("max_deliveries"), durable="t-dead")
    [letter] = await dead.fetch(batch=5, timeout_s=1.0)
    assert letter.data == b"payload"
    assert letter.headers[ORIGINAL_SUBJECT_HEADER] == "hwarang.events.11.11140.c"
