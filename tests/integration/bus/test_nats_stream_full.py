"""A JetStream stream that refuses when full (``discard: new``) is a BusFullError, not a lost message."""

from collections.abc import AsyncIterator

import pytest
from nats.js import api

from hwarang.bus import BusError, BusFullError
from hwarang.bus.config import build_bus
from hwarang.bus.nats import NatsBus
from hwarang.bus.server import NatsServerProcess
from hwarang.bus.subjects import EVENTS_ALL
from tests.integration.bus.nats_support import bus_config

pytestmark = pytest.mark.integration

SUBJECT = "hwarang.events.11.11140.seoul-junggu-cc"


@pytest.fixture
async def bus(nats_server: NatsServerProcess) -> AsyncIterator[NatsBus]:
    built = await build_bus(bus_config(nats_server, manage_streams="none"))
    assert isinstance(built, NatsBus)
    try:
        yield built
    finally:
        await built.close()


async def test_a_full_discard_new_stream_refuses_with_bus_full_error(bus: NatsBus) -> None:
    await bus.client.jetstream().add_stream(
        api.StreamConfig(name="SMALL", subjects=[EVENTS_ALL], max_msgs=2, discard=api.DiscardPolicy.NEW)
    )
    sub = await bus.subscribe(EVENTS_ALL, durable="hub")
    await bus.publish(SUBJECT, b"a", msg_id="a")
    await bus.publish(SUBJECT, b"b", msg_id="b")
    with pytest.raises(BusFullError) as refused:
        await bus.publish(SUBJECT, b"c", msg_id="c")
    assert isinstance(refused.value, BusError)
    assert refused.value.limit == "maximum messages exceeded"
    assert "stream is full" in str(refused.value)
    assert [d.data for d in await sub.fetch(10, 1.0)] == [b"a", b"b"]  # nothing stored was lost
    assert await bus.stream_state("SMALL") == (2, 1, 2)


async def test_other_publish_errors_stay_plain_bus_errors(bus: NatsBus) -> None:
    await bus.client.jetstream().add_stream(
        api.StreamConfig(name="TINY", subjects=[EVENTS_ALL], max_msg_size=4)
    )
    with pytest.raises(BusError) as failed:
        await bus.publish(SUBJECT, b"far too large")
    assert not isinstance(failed.value, BusFullError)
