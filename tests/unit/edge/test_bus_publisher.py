"""BusPublisher against a full in-memory bus: the event waits and is retried, never dropped."""

import asyncio

from hwarang.bus import MemoryBus
from hwarang.bus.base import Delivery, Subscription
from hwarang.bus.subjects import EVENTS_ALL
from hwarang.domain import EventMessage
from hwarang.edge.publisher import BusPublisher
from hwarang.hub.store.health import HealthBoard
from hwarang.runtime.embedded import BUS_CONDITION, show_bus_full
from tests.hub_support import make_message


async def _ack_all(sub: Subscription) -> list[Delivery]:
    out: list[Delivery] = []
    for _ in range(100):
        batch = await sub.fetch(10, 0.05)
        if not batch:
            return out
        for delivery in batch:
            await delivery.ack()
        out.extend(batch)
    raise AssertionError("consumer never ran dry")


async def test_a_full_bus_is_retried_until_acks_free_room_and_nothing_is_lost() -> None:
    bus = MemoryBus(max_msgs=2)
    board = HealthBoard()
    bus.watch_full(lambda reason: show_bus_full(board, reason))
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    publisher = BusPublisher(bus, asyncio.get_running_loop(), timeout_s=2.0, retry_max_s=0.2)
    messages = [make_message(track_id=i, with_snapshot=False) for i in range(3)]
    for message in messages[:2]:
        await asyncio.to_thread(publisher, message)

    third = asyncio.create_task(asyncio.to_thread(publisher, messages[2]))
    for _ in range(500):
        if publisher.failures:
            break
        await asyncio.sleep(0.01)
    assert publisher.failures >= 1 and not third.done()  # the camera thread waits (back-pressure)
    [condition] = board.conditions()
    assert condition.name == BUS_CONDITION and condition.level == "degraded"
    assert "hub (2 unacked)" in condition.reason

    received = await _ack_all(sub)  # the hub catches up: room again
    assert board.conditions() == []
    await asyncio.wait_for(third, timeout=10.0)
    received += await _ack_all(sub)
    ids = [EventMessage.model_validate_json(d.data).event.id for d in received]
    assert ids == [m.event.id for m in messages]
    assert publisher.published == 3 and publisher.duplicates == 0
    assert bus.stats()["refused_full"] == publisher.failures
