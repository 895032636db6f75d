"""Outage drill with real servers on loopback: nothing lost, nothing duplicated, per-camera order kept.

Topology: a center's leaf node (its own JetStream domain) and the national hub server, whose
HWARANG_EVENTS stream sources the leaf's. An edge publisher (the load generator, 8 cameras)
publishes 10,000 events to its leaf. While it publishes:

1. the hub *process* (``hwarang hub --config``, a real child process on PostgreSQL) is stopped
   with SIGTERM in the middle of ingesting and a new one is started (one restart);
2. the hub nats-server is stopped for 30 s: the leaf<->hub link is cut (and the hub process loses
   its bus); the leaf keeps storing the edge's events;
3. the hub server comes back, the leaf reconnects, the stream catches up and the hub ingests.

Afterwards the hub store holds exactly the 10,000 published event ids, each once. Ingest order is
the incident ``seq`` the hub allocates at commit; for every camera, its events in seq order have
strictly increasing ``occurred_at`` and ``frame_index`` (the order the camera produced them).
"""

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from hwarang.bus.topology import build_topology
from hwarang.edge.loadgen import EventFactory, SimulationLimits, build_cameras, simulate
from hwarang.geo.regions import default_catalog
from tests.hub_support import pg_schema_url
from tests.integration.hubproc_support import (
    api_port,
    count_events,
    new_hub_process,
    poll,
    stored_events,
    write_hub_config,
)

pytestmark = pytest.mark.integration

EVENTS = 10_000
RATE = 400.0  # events/s: publishing lasts 25 s and spans the restart and most of the cut
CUT_S = 30.0
CENTER = "outage-cc"


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from pg_schema_url()


async def _settled_count(url: str, *, steady_s: float, timeout_s: float) -> int:
    """The stored event count once it stopped changing for ``steady_s`` (or after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    count, since = count_events(url), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < steady_s:
        await asyncio.sleep(0.25)
        now = count_events(url)
        if now != count:
            count, since = now, time.monotonic()
    return count


async def _sleep_until(t0: float, at_s: float) -> None:
    delay = t0 + at_s - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def test_link_cut_and_hub_restart_lose_and_duplicate_nothing(tmp_path: Path, pg_url: str) -> None:
    started = time.monotonic()
    topo = build_topology(tmp_path / "nats", centers=[CENTER])
    cameras = build_cameras(default_catalog(), centers=2, cameras_per_center=4, seed=7)
    factory = EventFactory(cameras, seed=7)
    port = api_port()
    hub_bus = topo.hub_bus_config(first_connect_wait_s=90.0, reconnect_wait_s=0.2, reconnect_wait_max_s=1.0)
    config = write_hub_config(
        tmp_path / "hub.yaml", bus=hub_bus, data_dir=tmp_path / "hub", database_url=pg_url, port=port
    )
    first = new_hub_process(tmp_path, "hub-1", config, port)
    second = new_hub_process(tmp_path, "hub-2", config, port)
    async with topo:
        edge_bus = await topo.connect_edge(CENTER)
        try:
            first.start()
            await asyncio.to_thread(first.wait_healthy, 30.0)
            t0 = time.monotonic()
            limits = SimulationLimits(rate=RATE, count=EVENTS, concurrency=64, keep_ids=True)
            publishing = asyncio.create_task(simulate(edge_bus, factory, limits, seed=7))

            await _sleep_until(t0, 3.0)
            assert count_events(pg_url) > 0, "the first hub process ingests while the edge publishes"
            exit_code = await asyncio.to_thread(first.terminate)
            assert exit_code == 0, f"graceful stop failed:\n{first.log_tail()}"
            stored_by_first = count_events(pg_url)
            second.start()
            await asyncio.to_thread(second.wait_healthy, 30.0)

            await _sleep_until(t0, 8.0)
            await topo.hub.stop()  # the cut: leaf uplink and the hub process's bus are gone
            # A batch fetched just before the cut may still be committing; once the count holds
            # still for 2 s, nothing more may arrive until the link is back.
            during_cut = await _settled_count(pg_url, steady_s=2.0, timeout_s=10.0)
            await _sleep_until(t0, 8.0 + CUT_S)
            assert count_events(pg_url) == during_cut, "nothing reaches the hub while the link is cut"
            await topo.hub.start()
            await topo.wait_leaves_connected(timeout_s=20.0)

            summary = await asyncio.wait_for(publishing, timeout=60.0)
            assert (summary.published, summary.failed) == (EVENTS, 0)
            await poll(lambda: count_events(pg_url) >= EVENTS, timeout_s=40.0, interval_s=0.5)
            await asyncio.sleep(2.0)  # anything extra (a duplicate) would land now
            health = await asyncio.to_thread(second.health)
            assert await asyncio.to_thread(second.terminate) == 0, second.log_tail()
        finally:
            first.terminate(5.0)
            second.terminate(5.0)

    rows = stored_events(pg_url)
    assert 0 < stored_by_first < during_cut < EVENTS, (stored_by_first, during_cut)
    assert len(rows) == EVENTS, f"{len(rows)} stored:\n{second.log_tail()}"
    assert sorted(r.event_id for r in rows) == sorted(summary.event_ids), "exactly the published events"
    assert len({r.event_id for r in rows}) == EVENTS, "no event stored twice"
    by_camera: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for row in rows:  # in seq (ingest) order
        by_camera[row.camera_id].append((row.occurred_at, row.frame_index))
    assert len(by_camera) == len(cameras)
    for camera_id, seen in by_camera.items():
        times = [t for t, _ in seen]
        frames = [f for _, f in seen]
        assert all(a < b for a, b in itertools.pairwise(times)), f"{camera_id}: occurred_at order"
        assert all(a < b for a, b in itertools.pairwise(frames)), f"{camera_id}: frame order"
    assert health is not None and health["extra"]["dead_letters"] == 0
    assert health["extra"]["bus"]["connected"] is True
    assert health["extra"]["bus"]["reconnects"] >= 1, "the second hub process lived through the cut"
    assert health["extra"]["source_restarts"] >= 1, "the leaf source was restarted when the link came back"
    assert time.monotonic() - started < 90.0
