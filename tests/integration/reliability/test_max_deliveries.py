"""A message a JetStream consumer gives up on (max_deliver) is dead-lettered, not dropped."""

import asyncio
import json
from pathlib import Path

import pytest
from nats_support import bus_config

from hwarang.bus.advisories import MaxDeliveriesWatcher
from hwarang.bus.config import EVENTS_STREAM, build_bus
from hwarang.bus.deadletter import ERROR_HEADER, ORIGINAL_SUBJECT_HEADER
from hwarang.bus.nats import NatsBus
from hwarang.bus.server import NatsServerProcess
from hwarang.bus.subjects import EVENTS_ALL, dead_letter_subject, event_subject
from tests.hub_support import make_message

pytestmark = pytest.mark.integration


async def test_an_exhausted_message_reaches_the_dead_letters(
    tmp_path: Path, nats_server: NatsServerProcess
) -> None:
    bus = await build_bus(bus_config(nats_server))
    assert isinstance(bus, NatsBus)
    stop = asyncio.Event()
    watcher = MaxDeliveriesWatcher(bus, EVENTS_STREAM)
    watching = asyncio.create_task(watcher.run(stop))
    try:
        message = make_message()
        subject = event_subject("11", "11140", "seoul-jung")
        await bus.publish(subject, message.model_dump_json().encode(), msg_id=str(message.event.id))
        flaky = await bus.subscribe(EVENTS_ALL, durable="gives-up", ack_wait_s=0.5, max_deliver=2)
        for attempt in (1, 2):  # delivered twice, never acked
            [delivery] = await flaky.fetch(batch=1, timeout_s=5.0)
            assert delivery.num_delivered == attempt
        await asyncio.sleep(0.6)
        assert await flaky.fetch(batch=1, timeout_s=1.0) == [], "the consumer gave the message up"
        dead = await bus.subscribe(dead_letter_subject("max_deliveries"), durable="t-dead")
        letters = []
        for _ in range(20):
            letters = await dead.fetch(batch=5, timeout_s=0.5)
            if letters:
                break
        assert len(letters) == 1, "the message the consumer gave up on is dead-lettered"
        assert json.loads(letters[0].data)["event"]["id"] == str(message.event.id)
        assert letters[0].headers[ORIGINAL_SUBJECT_HEADER] == subject
        assert "gave up after 2 deliveries" in letters[0].headers[ERROR_HEADER]
        assert watcher.dead_lettered == 1
    finally:
        stop.set()
        await watching
        await bus.close()
