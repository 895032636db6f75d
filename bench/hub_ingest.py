"""Hub ingest throughput: events/s from publish to committed row, with p50/p99 latency.

    python bench/hub_ingest.py [--rate 3000] [--duration 8] [--backlog 20000] [--batch 256]
                               [--buses memory,nats] [--engines sqlite,postgresql] [--fusion on|off]

For every bus (in-memory; NATS JetStream on a nats-server started on a free loopback port) and
every store (SQLite file; PostgreSQL in a fresh schema of HWARANG_BENCH_PG_URL, default the local
test server) it runs, with a fresh database each time:

- **sustained**: simulated events (228 centers, ``hwarang.edge.loadgen``) offered at ``--rate``
  for ``--duration`` seconds while the hub's IngestWorker stores them; latency is commit time
  minus the event's ``occurred_at``, which the generator sets to the moment it hands the event to
  the bus (same clock: one machine). On NATS the publisher is a separate ``hwarang simulate``
  process, as an edge would be; on the memory bus it shares the hub's process and event loop.
- **backlog**: ``--backlog`` events published first, then drained by the hub: the most the hub
  can store per second (no publisher competing for the CPU).

Fusion (``hwarang.hub.fusion.correlation``, default settings) is on unless ``--fusion off``: events then join
incidents, so stored events, not incidents, are counted.

Every wait is bounded; a run that does not drain in time reports what it stored.
"""

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from hwarang.bus import Bus, MemoryBus
from hwarang.bus.config import build_bus
from hwarang.domain import EventMessage
from hwarang.edge.loadgen import EventFactory, SimulationLimits, build_cameras, simulate
from hwarang.geo.regions import default_catalog
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.fusion.ingest import IngestResult, IngestService
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.runtime.local_nats import local_bus_config, local_nats_server

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DRAIN_LIMIT_S = 60.0
CAMERAS_PER_CENTER = 4


@dataclass
class Result:
    """One measured run."""

    bus: str
    engine: str
    mode: str
    offered: float
    stored: int
    expected: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    store_busy_s: float = 0.0
    incidents: int = 0

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Recorder:
    """Commit time minus occurred_at per stored event (called after each committed batch)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.first: float | None = None
        self.last = 0.0
        self._lock = threading.Lock()

    def __call__(self, messages: list[EventMessage], results: list[IngestResult]) -> None:
        now = time.time()
        with self._lock:
            for message, result in zip(messages, results, strict=True):
                if result.duplicate:
                    continue
                occurred = message.event.occurred_at.timestamp()
                self.latencies.append(now - occurred)
                self.first = self.first if self.first is not None else occurred
                self.last = now


class TimedIngest:
    """The hub's ingest, adding up the time spent inside it (the store's share of the work)."""

    def __init__(self, inner: IngestService, recorder: Recorder) -> None:
        self._inner = inner
        self.recorder = recorder
        self.busy_s = 0.0

    def event(self, message: EventMessage) -> IngestResult:
        started = time.perf_counter()
        try:
            result = self._inner.event(message)
        finally:
            self.busy_s += time.perf_counter() - started
        self.recorder([message], [result])
        return result

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        started = time.perf_counter()
        try:
            results = self._inner.batch(messages)
        finally:
            self.busy_s += time.perf_counter() - started
        self.recorder(list(messages), results)
        return results


@contextmanager
def database(engine: str, pg_url: str, folder: Path) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file or a fresh PostgreSQL schema (dropped after)."""
    if engine == "sqlite":
        db = Database(f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}")
        db.migrate()
        try:
            yield db
        finally:
            db.close()
        return
    schema = f"hwarang_bench_{uuid.uuid4().hex[:10]}"
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            # public on the path: PostGIS lives there, so the bench measures the production schema (geom)
            url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema},public"})
            db = Database(url.render_as_string(hide_password=False))
            db.migrate()
            try:
                yield db
            finally:
                db.close()
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def _wait_stored(recorder: Recorder, expected: int, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    for _ in range(int(limit_s / 0.05) + 1):
        if len(recorder.latencies) >= expected or time.monotonic() >= deadline:
            return
        await asyncio.sleep(0.05)


async def _publish_in_process(bus: Bus, factory: EventFactory, limits: SimulationLimits) -> int:
    summary = await simulate(bus, factory, limits)
    return summary.published


async def _publish_subprocess(url: str, rate: float, duration: float) -> int:
    cmd = [
        sys.executable, "-m", "hwarang", "simulate", "--servers", url, "--rate", str(rate),
        "--duration", str(duration), "--cameras-per-center", str(CAMERAS_PER_CENTER),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"}
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=duration + 60)
    for line in out.decode(errors="replace").splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if cells and cells[0].isdigit():
            return int(cells[0])
    raise RuntimeError(f"simulate printed no summary (exit {proc.returncode}):\n{out.decode()}")


async def run_one(
    bus_name: str, engine: str, mode: str, args: argparse.Namespace, folder: Path, factory: EventFactory
) -> Result:
    """One (bus, engine, mode) measurement with a fresh bus and database."""
    with database(engine, args.pg_url, folder) as db:
        fusion = FusionConfig() if args.fusion == "on" else None
        service = HubService(db, EvidenceStore(folder / "evidence"), fusion=fusion)
        recorder = Recorder()
        timed = TimedIngest(service.ingest, recorder)
        async with bus_scope(bus_name, folder) as (bus, url):
            worker = IngestWorker(bus, timed, batch=args.batch)
            stop = asyncio.Event()
            started = time.time()
            if mode == "backlog":
                limits = SimulationLimits(rate=1e9, count=args.backlog, concurrency=512)
                expected = await _publish_in_process(bus, factory, limits)
                started = time.time()
                task = asyncio.create_task(worker.run(stop))
                await _wait_stored(recorder, expected, DRAIN_LIMIT_S)
                seconds = recorder.last - started
            else:
                task = asyncio.create_task(worker.run(stop))
                if url is None:
                    limits = SimulationLimits(rate=args.rate, duration_s=args.duration)
                    expected = await _publish_in_process(bus, factory, limits)
                else:
                    expected = await _publish_subprocess(url, args.rate, args.duration)
                await _wait_stored(recorder, expected, DRAIN_LIMIT_S)
                seconds = recorder.last - (recorder.first or started)
            stop.set()
            await asyncio.wait_for(task, timeout=30)
        latencies = recorder.latencies if mode == "sustained" else []
        return Result(
            bus_name, engine, mode, args.rate if mode == "sustained" else 0.0,
            len(recorder.latencies), expected, seconds, latencies, timed.busy_s,
            service.incidents.health()["incidents"],
        )  # fmt: skip


@asynccontextmanager
async def bus_scope(name: str, folder: Path) -> AsyncIterator[tuple[Bus, str | None]]:
    """(bus, nats url or None): a MemoryBus, or a NatsBus on a nats-server of its own."""
    if name == "memory":
        memory = MemoryBus(max_msgs=1_000_000)
        try:
            yield memory, None
        finally:
            await memory.close()
        return
    async with local_nats_server(folder / f"nats-{uuid.uuid4().hex[:6]}", name="bench") as server:
        bus = await build_bus(local_bus_config(server, name="bench-hub"))
        try:
            yield bus, server.client_url
        finally:
            await bus.close()


def print_table(results: list[Result]) -> None:
    head = f"{'bus':7} {'store':10} {'mode':9} {'offered/s':>9} {'stored':>13} {'events/s':>9} "
    head += f"{'p50 ms':>8} {'p99 ms':>8} {'store busy':>10} {'incidents':>9}"
    print(head)
    print("-" * len(head))
    for r in results:
        offered = f"{r.offered:.0f}" if r.offered else "backlog"
        stored = f"{r.stored}/{r.expected}"
        busy = f"{100 * r.store_busy_s / r.seconds:.0f}%" if r.seconds > 0 else "-"
        print(
            f"{r.bus:7} {r.engine:10} {r.mode:9} {offered:>9} {stored:>13} {r.rate:9.0f} "
            f"{1000 * r.percentile(0.50):8.1f} {1000 * r.percentile(0.99):8.1f} {busy:>10} {r.incidents:>9}"
        )


async def main_async(args: argparse.Namespace) -> list[Result]:
    cameras = build_cameras(default_catalog(), centers=228, cameras_per_center=CAMERAS_PER_CENTER)
    factory = EventFactory(cameras, seed=1)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="hwarang-bench-") as tmp:
        for bus_name in args.buses.split(","):
            for engine in args.engines.split(","):
                for mode in ("sustained", "backlog"):
                    result = await run_one(bus_name, engine, mode, args, Path(tmp), factory)
                    done = f"{result.stored} in {result.seconds:.1f} s"
                    print(f"  {bus_name}/{engine}/{mode}: {done}", flush=True)
                    results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=3000.0, help="offered events/s in the sustained run")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of the sustained run")
    parser.add_argument("--backlog", type=int, default=20_000, help="events of the backlog run")
    parser.add_argument("--batch", type=int, default=256, help="events per fetch and transaction")
    parser.add_argument("--buses", default="memory,nats")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("HWARANG_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--fusion", choices=("on", "off"), default="on", help="correlate events (default on)")
    args = parser.parse_args()
    print(
        f"hub ingest on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"batch {args.batch}, 228 centers x {CAMERAS_PER_CENTER} cameras, events without snapshots, "
        f"fusion {args.fusion}"
    )
    results = asyncio.run(main_async(args))
    print()
    print_table(results)
    print(
        "\nlatency: commit time - occurred_at (set when the event is handed to the bus). "
        "'store busy': share of the run spent inside IngestService.batch (a DB transaction per batch);\n"
        "the rest is the hub's event loop (fetch, JSON validation into pydantic models, acks) and, on the "
        "memory bus, the publisher sharing the same Python process. One ingest worker per hub: Python's "
        "single core per process is the limit (2 cores are shared with nats-server, PostgreSQL and the "
        "publisher)."
    )


if __name__ == "__main__":
    main()
