"""Clips on the bus: chunking, headers, and the memory bus's byte bound."""

import pytest

from hwarang.bus import BusError
from hwarang.bus.clipwire import read_chunk, split_clip
from hwarang.bus.memory import MemoryBus

SHA = "a" * 64


def test_a_clip_splits_into_chunks_that_read_back() -> None:
    data = bytes(range(256)) * 41
    chunks = list(split_clip(SHA, data, '{"x":1}', chunk_bytes=4096))
    assert [c.part for c in chunks] == [0, 1, 2]
    assert {c.parts for c in chunks} == {3}
    assert b"".join(c.data for c in chunks) == data
    assert len({c.msg_id for c in chunks}) == 3
    back = read_chunk(chunks[1].headers(), chunks[1].data)
    assert back == chunks[1]
    assert len(list(split_clip(SHA, b"", "{}"))) == 1


def test_malformed_chunks_are_refused_by_name() -> None:
    chunk = next(split_clip(SHA, b"abc", "{}"))
    headers = chunk.headers()
    with pytest.raises(BusError, match="hwarang-clip-part"):
        read_chunk({k: v for k, v in headers.items() if k != "hwarang-clip-part"}, b"abc")
    with pytest.raises(BusError, match="out of range"):
        read_chunk({**headers, "hwarang-clip-part": "5"}, b"abc")
    with pytest.raises(BusError, match="malformed"):
        read_chunk({**headers, "hwarang-clip-parts": "x"}, b"abc")
    with pytest.raises(BusError, match="one line"):
        list(split_clip(SHA, b"abc", "{\n}"))


async def test_the_memory_bus_drops_the_oldest_messages_past_its_byte_bound() -> None:
    bus = MemoryBus(max_bytes=10_000)
    for i in range(5):
        await bus.publish("hwarang.clips.11.11140.c", bytes(4000), msg_id=f"m{i}")
    sub = await bus.subscribe("hwarang.clips.>", durable="d")
    got = await sub.fetch(batch=10, timeout_s=0.1)
    assert [d.msg_id for d in got] == ["m3", "m4"]
