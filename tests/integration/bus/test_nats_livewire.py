"""Live view over core NATS: a leased edge sender and the hub relay on two connections.

No bytes are published before a viewer joins; a viewer gets decodable fMP4; after it leaves the
lease lapses and the edge stops publishing.
"""

import asyncio
import io
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import av
import nats
import numpy as np
import pytest

from hwarang.bus.nats_livewire import NatsLiveWire
from hwarang.edge.frame import Frame
from hwarang.edge.live_sender import LiveSender
from hwarang.edge.media.clips import ClipConfig, FrameEncoder
from hwarang.hub.evidence.live_relay import LiveRelay

pytestmark = pytest.mark.timeout(60)

NATS_URL = "nats://127.0.0.1:4222"


def _camera(sender: LiveSender, stop: threading.Event, frames: list[int]) -> None:
    encoder = FrameEncoder(ClipConfig(), 10.0)
    for index in range(1200):  # bounded
        if stop.wait(0.04):
            return
        image = np.zeros((240, 320, 3), np.uint8)
        image[:, : (index * 7) % 320] = 200
        for packet in encoder.encode(
            Frame(image, index=index, pts_s=index / 10, wall_time=datetime.now(UTC))
        ):
            sender.add(packet, encoder.size)
        frames.append(index)


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_leased_fmp4_over_core_nats_and_no_bytes_without_a_viewer() -> None:
    loop = asyncio.get_running_loop()
    edge_client = await nats.connect(NATS_URL)
    hub_client = await nats.connect(NATS_URL)
    edge_wire, hub_wire = NatsLiveWire(edge_client, loop), NatsLiveWire(hub_client, loop)
    camera_id = f"live-test-{uuid.uuid4().hex[:8]}"
    sender = LiveSender(camera_id, edge_wire, 10.0, center_id="live-test", lease_s=1.5)
    relay = LiveRelay(hub_wire, renew_s=0.5)
    stop = threading.Event()
    frames: list[int] = []
    thread = threading.Thread(target=_camera, args=(sender, stop, frames), daemon=True)
    thread.start()
    try:
        await _until(lambda: len(frames) >= 15)
        assert edge_wire.bytes_published == 0

        viewer = relay.join(camera_id, center="live-test")
        chunks = [await asyncio.wait_for(viewer.queue.get(), 10) for _ in range(4)]
        data = b"".join(chunks)
        assert data[4:8] == b"ftyp"
        with av.open(io.BytesIO(data), "r") as container:
            assert len(list(container.decode(video=0))) >= 10
        relay.leave(viewer)

        await _until(lambda: not sender.leased)
        settled = edge_wire.bytes_published
        seen = len(frames)
        await _until(lambda: len(frames) >= seen + 15)
        assert edge_wire.bytes_published == settled
        assert relay.stats()[camera_id]["views"] == 1
    finally:
        stop.set()
        thread.join(5)
        sender.close()
        await edge_client.close()
        await hub_client.close()
