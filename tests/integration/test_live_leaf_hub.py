"""Live view over a real leaf node and hub: ``hwarang edge`` and ``hwarang hub`` as processes.

No viewer, no video bytes on the leaf link (the leaf server's ``/leafz`` byte counters); a viewer
at the hub's WebSocket gets fMP4 that PyAV decodes; after the viewer leaves the edge stops within
5 s; and another center's edge may not publish on this center's live subject.
"""

import asyncio
import io
import json
import re
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import nats
import pytest
from websockets.asyncio.client import connect as ws_connect

from hwarang.bus.livewire import video_subject
from hwarang.bus.natsconfig import EDGE_LOCAL_USER
from hwarang.bus.subjects import event_subject
from hwarang.bus.topology import Topology, build_topology, client_in_bytes, leaf_link_bytes
from hwarang.edge.sources.stamp import read_stamp
from tests.hub_support import make_message
from tests.integration.hubproc_support import (
    ADMIN_PASSWORD,
    HubProcess,
    api_port,
    new_hub_process,
    poll,
)
from tests.integration.live_support import (
    CAMERA,
    CENTER,
    live_site,
    start_edge_process,
    stop_edge_process,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

OTHER = "busan-cc"
EDGE_NAME = f"edge-{CENTER}"
"""The edge process's NATS connection name (its bus config's ``name``)."""
IDLE_WINDOW_S = 4.0
IDLE_LIMIT = 1024
QUIET_BYTES = 512
"""What the edge may send in 1.5 s without video: its command consumer's pull requests (a GOP is ~14 KB)."""


@pytest.fixture
async def topo(tmp_path: Path) -> AsyncIterator[Topology]:
    topology = build_topology(tmp_path / "nats", centers=[CENTER, OTHER], own_subject_only=True)
    await topology.start()
    try:
        yield topology
    finally:
        await topology.stop()


def _get(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5.0) as resp:
        return json.loads(resp.read())


def _login(port: int) -> str:
    form = urllib.parse.urlencode({"username": "admin", "password": ADMIN_PASSWORD}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/token", data=form)
    with urllib.request.urlopen(request, timeout=10.0) as resp:
        return str(json.loads(resp.read())["access_token"])


async def _incident_id(port: int, token: str) -> str | None:
    incidents = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/api/v1/incidents", token)
    return next((i["id"] for i in incidents if i["camera_id"] == CAMERA), None)


async def _growth(topo: Topology, window_s: float) -> tuple[int, int]:
    """Bytes the edge process published to its leaf, and bytes over the leaf link, in ``window_s``."""
    monitor = topo.centers[CENTER].server.monitor_url
    edge_before = await asyncio.to_thread(client_in_bytes, monitor, EDGE_NAME)
    link_before = await asyncio.to_thread(leaf_link_bytes, monitor)
    await asyncio.sleep(window_s)  # a measurement window, not a wait for a condition
    edge_after = await asyncio.to_thread(client_in_bytes, monitor, EDGE_NAME)
    link_after = await asyncio.to_thread(leaf_link_bytes, monitor)
    return edge_after - edge_before, link_after - link_before


async def _watch(port: int, incident_id: str, token: str, messages: int) -> bytes:
    url = f"ws://127.0.0.1:{port}/api/v1/incidents/{incident_id}/live?token={token}"
    chunks: list[bytes] = []
    async with ws_connect(url, max_size=None) as ws:
        for _ in range(messages):
            data = await asyncio.wait_for(ws.recv(), timeout=15.0)
            assert isinstance(data, bytes)
            chunks.append(data)
    return b"".join(chunks)


async def test_live_video_crosses_the_leaf_link_only_while_watched(topo: Topology, tmp_path: Path) -> None:
    port = api_port()
    hub_site = live_site(tmp_path / "hub.yaml", topo.hub_bus_config(), tmp_path, port)
    edge_site = live_site(tmp_path / "edge.yaml", topo.edge_bus_config(CENTER), tmp_path, port)
    hub: HubProcess = new_hub_process(tmp_path, "hub", hub_site, port)
    hub.start()
    edge = await start_edge_process(edge_site, tmp_path / "edge.log")
    try:
        await asyncio.to_thread(hub.wait_healthy, 60.0)
        token = await asyncio.to_thread(_login, port)
        monitor = topo.centers[CENTER].server.monitor_url
        edge_bus = await topo.connect_edge(CENTER)
        message = make_message(camera_id=CAMERA, center_id=CENTER)
        subject = event_subject("11", "11140", CENTER)
        await edge_bus.publish(subject, message.model_dump_json().encode(), msg_id=str(message.event.id))
        incident_id = None
        for _ in range(300):  # bounded: until the event crossed the link and opened an incident
            incident_id = await _incident_id(port, token)
            if incident_id is not None:
                break
            await asyncio.sleep(0.2)
        assert incident_id is not None, hub.log_tail()

        # (a) Nobody watches: the edge publishes nothing, and the leaf link carries only the
        # JetStream control plane (source heartbeats, the hub's source checks: about 1 KB/s).
        assert await asyncio.to_thread(client_in_bytes, monitor, EDGE_NAME) > 0, "edge not connected"
        edge_idle, link_idle = await _growth(topo, IDLE_WINDOW_S)
        assert edge_idle < IDLE_LIMIT, f"the edge published {edge_idle} bytes without a viewer"
        assert link_idle < IDLE_LIMIT * IDLE_WINDOW_S * 1.5, f"{link_idle} bytes on the leaf link"

        # (b) A viewer gets decodable video (stamped by the synthetic camera), across the link.
        link_start = await asyncio.to_thread(leaf_link_bytes, monitor)
        data = await _watch(port, incident_id, token, 5)
        crossed = await asyncio.to_thread(leaf_link_bytes, monitor) - link_start
        assert crossed >= len(data), (crossed, len(data))
        assert data[4:8] == b"ftyp"
        with av.open(io.BytesIO(data), "r") as container:
            frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
        assert len(frames) >= 10
        assert all(read_stamp(f) is not None for f in frames)
        health = await asyncio.to_thread(_get, hub.health_url)
        counters = health["extra"]["live_video"][CAMERA]
        assert counters["views"] == 1 and counters["bytes_in"] >= len(data) // 2

        # (c) The viewer left: the edge stops within 5 s (lease lapse), then stays silent.
        left = time.monotonic()
        samples = [(0.0, await asyncio.to_thread(client_in_bytes, monitor, EDGE_NAME))]
        for _ in range(24):  # bounded: a sample every 0.5 s until 1.5 s without video (3 GOPs)
            await asyncio.sleep(0.5)
            samples.append(
                (time.monotonic() - left, await asyncio.to_thread(client_in_bytes, monitor, EDGE_NAME))
            )
            if len(samples) >= 4 and samples[-1][1] - samples[-4][1] < QUIET_BYTES:
                break
        assert samples[-1][1] - samples[-4][1] < QUIET_BYTES, samples
        stopped_after = samples[-4][0]  # the first sample of the silent run
        assert stopped_after <= 5.0, samples
        edge_after, link_after = await _growth(topo, 3.0)
        assert edge_after < IDLE_LIMIT, f"the edge published {edge_after} bytes after the viewer left"
        assert link_after < IDLE_LIMIT * 3.0 * 1.5, f"{link_after} bytes on the leaf link"
    finally:
        edge_code, edge_log = await stop_edge_process(edge, tmp_path / "edge.log")
        hub_code = await asyncio.to_thread(hub.terminate)
    assert edge_code == 0, edge_log[-3000:]
    assert hub_code == 0, hub.log_tail()
    sent = re.findall(r"(\d+) live bytes sent", edge_log)
    assert sent and int(sent[-1]) > 0, edge_log[-3000:]  # the edge's health counted the view


async def test_another_centers_edge_cannot_publish_this_centers_live_video(topo: Topology) -> None:
    other = topo.centers[OTHER]
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    intruder = await nats.connect(
        other.server.client_url,
        user=EDGE_LOCAL_USER,
        password=other.config.users[EDGE_LOCAL_USER],
        error_cb=on_error,
        allow_reconnect=False,
    )
    hub_bus = await topo.connect_hub()
    received: list[bytes] = []

    async def on_video(msg: Any) -> None:
        received.append(msg.data)

    target = video_subject(CENTER, CAMERA)
    own = video_subject(OTHER, f"cam-{uuid.uuid4().hex[:6]}")
    watch = await hub_bus.client.subscribe(target, cb=on_video)
    watch_own = await hub_bus.client.subscribe(own, cb=on_video)
    await hub_bus.client.flush()
    try:
        assert await poll(lambda: _hub_interest(topo, OTHER), timeout_s=10.0)
        await intruder.publish(target, b"\x00\x00\x00\x08moof")
        await intruder.publish(own, b"own")
        await intruder.flush()
        assert await poll(lambda: bool(errors) and bool(received), timeout_s=10.0), (errors, received)
        assert any("permissions violation" in e.lower() and target in e for e in errors), errors
        assert received == [b"own"]  # its own center's subject goes through; the other never does
    finally:
        await watch.unsubscribe()
        await watch_own.unsubscribe()
        await intruder.close()


def _hub_interest(topo: Topology, center: str) -> bool:
    """True once the center's leaf knows the hub's interest in live video (subscriptions propagated)."""
    url = f"{topo.centers[center].server.monitor_url}/leafz?subs=1"
    with urllib.request.urlopen(url, timeout=2.0) as resp:
        data = json.loads(resp.read())
    subjects = [s for leaf in data.get("leafs", []) for s in leaf.get("subscriptions_list") or []]
    return bool(sum(s.startswith("hwarang.live.video.") for s in subjects) >= 2)
