"""PostgreSQL unreachable for 30 s while 10,000 events are in flight: nothing lost, nothing twice.

A real ``hwarang hub`` process stores into a fresh PostgreSQL schema through a TCP proxy in this
test (the shared PostgreSQL itself keeps running); its bus is a nats-server of this test. The
load generator publishes 10,000 events from 8 cameras at 400/s. Four seconds in, the proxy is cut
(open connections reset, new ones refused) for 30 s. The hub must keep the batch in hand, retry
with back-off, say ``degraded`` with the reason meanwhile, and store everything once the database
is back: exactly the published ids, each once, each camera's events in the order it produced them.
"""

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nats_support import bus_config
from sqlalchemy.engine import make_url

from hwarang.bus.config import connect_nats
from hwarang.bus.server import NatsServerProcess
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
from tests.integration.reliability.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.integration

EVENTS = 10_000
RATE = 400.0
CUT_AT_S = 4.0
CUT_S = 30.0


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from pg_schema_url()


async def _watch_health(
    hub: Any, seen: list[tuple[float, dict[str, Any] | None]], stop: asyncio.Event
) -> None:
    """Record every health answer (bounded by ``stop``)."""
    while not stop.is_set():
        seen.append((time.monotonic(), await asyncio.to_thread(hub.health)))
        await asyncio.sleep(0.5)


async def test_database_outage_loses_and_duplicates_nothing(
    tmp_path: Path, pg_url: str, nats_server: NatsServerProcess
) -> None:
    target = make_url(pg_url)
    proxy = CuttableProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    hub_url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    port = api_port()
    config = write_hub_config(
        tmp_path / "hub.yaml",
        bus=bus_config(nats_server, first_connect_wait_s=30.0),
        data_dir=tmp_path / "hub",
        database_url=hub_url,
        port=port,
    )
    hub = new_hub_process(tmp_path, "hub", config, port)
    cameras = build_cameras(default_catalog(), centers=2, cameras_per_center=4, seed=11)
    seen: list[tuple[float, dict[str, Any] | None]] = []
    stop_watch = asyncio.Event()
    try:
        hub.start()
        await asyncio.to_thread(hub.wait_healthy, 60.0)
        edge_bus = await connect_nats(bus_config(nats_server, manage_streams="none", name="edge"))
        watcher = asyncio.create_task(_watch_health(hub, seen, stop_watch))
        try:
            t0 = time.monotonic()
            limits = SimulationLimits(rate=RATE, count=EVENTS, concurrency=64, keep_ids=True)
            publishing = asyncio.create_task(
                simulate(edge_bus, EventFactory(cameras, seed=11), limits, seed=11)
            )
            await asyncio.sleep(CUT_AT_S)
            assert count_events(pg_url) > 0, "the hub ingests before the cut"
            await proxy.cut()
            cut_at = time.monotonic()
            await asyncio.sleep(3.0)  # a commit already on the wire may still land
            during = count_events(pg_url)
            await asyncio.sleep(CUT_S - 3.0)
            assert count_events(pg_url) == during, "nothing is stored while the database is unreachable"
            await proxy.start()
            restored_at = time.monotonic()
            summary = await asyncio.wait_for(publishing, timeout=60.0)
            assert (summary.published, summary.failed) == (EVENTS, 0)
            await poll(lambda: count_events(pg_url) >= EVENTS, timeout_s=90.0, interval_s=0.5)
            await asyncio.sleep(2.0)  # a duplicate would land now
            after = await asyncio.to_thread(hub.health)
            assert time.monotonic() - t0 < 150.0
        finally:
            stop_watch.set()
            await watcher
            await edge_bus.close()
        assert await asyncio.to_thread(hub.terminate) == 0, hub.log_tail()
    finally:
        hub.terminate(5.0)
        await proxy.close()

    rows = stored_events(pg_url)
    assert len(rows) == EVENTS, f"{len(rows)} stored:\n{hub.log_tail()}"
    assert sorted(r.event_id for r in rows) == sorted(summary.event_ids), "exactly the published events"
    by_camera: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for row in rows:  # in ingest (seq) order
        by_camera[row.camera_id].append((row.occurred_at, row.frame_index))
    assert len(by_camera) == len(cameras)
    for camera_id, events in by_camera.items():
        assert all(a < b for a, b in itertools.pairwise(events)), f"{camera_id}: order kept"

    in_cut = [body for at, body in seen if cut_at + 6.0 <= at <= restored_at]
    assert in_cut and all(body is not None for body in in_cut), "health answers during the outage"
    assert all(body["status"] == "degraded" for body in in_cut if body), [b["status"] for b in in_cut if b]
    reasons = [c["reason"] for body in in_cut if body for c in body["conditions"] if c["name"] == "store"]
    assert reasons and all("unavailable" in r or "unreadable" in r for r in reasons), reasons
    assert after is not None and after["status"] == "ok" and after["conditions"] == [], after
    ingest = after["extra"]["ingest"]
    assert ingest["outages"] >= 1 and ingest["store_retries"] >= 1, ingest
    assert after["extra"]["dead_letters"] == 0
    assert proxy.connections >= 2, "the hub reconnected through the proxy after the cut"
