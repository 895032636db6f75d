"""Viewers per hub: how many concurrent live views one hub relays, on one camera and on several.

    python bench/live_viewers.py [--one 1,5,10,20,40,80] [--spread 4,20,40,80] [--cameras 4] [--view-s 5]

Starts a national hub and one center's leaf node (nats-server, loopback), ``hwarang hub`` and
``hwarang edge`` as processes, as ``bench/live_video.py`` does; the edge runs ``--cameras`` synthetic
cameras (640x360, 10 fps) that stamp their frame counter and capture time into each frame. The bench
logs in as admin and, for each level, opens that many WebSocket viewers at once on
``/api/v1/cameras/{id}/live`` (``--one``: all on the first camera; ``--spread``: round-robin over the
cameras), holds them for ``--view-s`` seconds and measures:

- the hub's, the edge's and this (viewer) process's CPU (``/proc``), and the machine's busy share;
- per viewer: bytes received per second, views closed early (the relay drops a viewer that falls behind);
- capture -> arrival latency of every frame at every viewer (p50 / p95 / max over all viewers).

Frames are decoded once per distinct fragment (viewers of one camera get the same fragments), after the
window. Prints a table for docs/benchmarks.md and the first level where p95 > 2 s, the hub's process
reaches 90 % of a core (its event loop is one thread), or a viewer is dropped. The machine's busy share
is printed, not a limit: on a shared machine other jobs fill it.
Runs in about 90 s with the defaults.
"""

import argparse
import asyncio
import hashlib
import io
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import yaml

from hwarang.bus.config import NatsBusConfig
from hwarang.bus.server import free_port
from hwarang.bus.topology import Topology, build_topology
from hwarang.edge.sources.stamp import age_ms, read_stamp
from live_video import ADMIN_PASSWORD, CENTER, _bus_section, _json, _start, _stop, _wait, cpu_s, receive_for

P95_LIMIT_MS = 2000
HUB_CPU_LIMIT = 90.0


def camera_ids(count: int) -> list[str]:
    """The bench's camera ids."""
    return [f"gos-view-{i + 1:02d}" for i in range(count)]


def write_site(path: Path, bus: NatsBusConfig, data_dir: Path, port: int, cameras: int) -> Path:
    """A site file with ``cameras`` stamped synthetic cameras on ``bus``."""
    docs = [
        {
            "id": camera,
            "name": f"viewers bench camera {i + 1}",
            "position": {"lat": 38.38 + i * 0.001, "lon": 128.47},
            "source": {"type": "synthetic", "width": 640, "height": 360, "fps": 10, "stamp": True, "seed": i},
            "detector": {"type": "motion"},
            "analysis_fps": 1.0,
        }
        for i, camera in enumerate(camera_ids(cameras))
    ]
    doc = {
        "site_name": "viewers-bench",
        "bus": _bus_section(bus),
        "hub": {"data_dir": str(data_dir / "hub"), "database_url": f"sqlite:///{data_dir / 'hub.db'}"},
        "api": {"host": "127.0.0.1", "port": port},
        "edge": {"centers": [{"id": CENTER, "name": "고성군 통합관제센터", "cameras": docs}]},
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores so far, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Viewer:
    """One viewer's messages with their arrival (wall ms), and how the view ended."""

    camera: str
    messages: list[tuple[bytes, int]] = field(default_factory=list)
    closed_early: bool = False

    @property
    def size(self) -> int:
        """Bytes received."""
        return sum(len(m) for m, _ in self.messages)


async def watch(port: int, camera: str, token: str, seconds: float) -> Viewer:
    """Receive ``camera``'s live view for ``seconds`` (or until the hub closes it)."""
    viewer = Viewer(camera)
    url = f"ws://127.0.0.1:{port}/api/v1/cameras/{camera}/live?token={token}"
    viewer.messages, viewer.closed_early = await receive_for(url, seconds)
    return viewer


def capture_times(viewer: Viewer) -> dict[bytes, list[int]]:
    """Stamped capture times (wall ms) of the frames in each of the viewer's messages, by message digest."""
    ends: list[int] = []
    size = 0
    for data, _ in viewer.messages:
        size += len(data)
        ends.append(size)
    digests = [hashlib.sha1(m).digest() for m, _ in viewer.messages]
    out: dict[bytes, list[int]] = {d: [] for d in digests}
    with av.open(io.BytesIO(b"".join(m for m, _ in viewer.messages)), "r") as container:
        for packet in container.demux(video=0):
            if packet.pos is None or packet.pos < 0:
                continue
            index = next((i for i, end in enumerate(ends) if packet.pos < end), None)
            for frame in packet.decode():
                stamp = read_stamp(frame.to_ndarray(format="gray"))
                if stamp is not None and index is not None:
                    out[digests[index]].append(stamp[1])
    return out


def latencies_ms(viewers: list[Viewer]) -> list[int]:
    """Capture -> arrival of the message holding each frame, for every frame at every viewer."""
    known: dict[bytes, list[int]] = {}
    out: list[int] = []
    for viewer in viewers:
        digests = [hashlib.sha1(m).digest() for m, _ in viewer.messages]
        if any(d not in known for d in digests[1:]):  # the first message is the init segment
            known.update(capture_times(viewer))
        for digest, (_, arrived) in zip(digests, viewer.messages, strict=True):
            out.extend(age_ms(stamp, arrived) for stamp in known.get(digest, []))
    return out


@dataclass
class Level:
    """The figures of one level."""

    label: str
    viewers: int
    cameras: int
    hub_cpu: float
    edge_cpu: float
    bench_cpu: float
    machine: float
    kbit_min: float
    kbit_mean: float
    dropped: int
    frames: int
    p50: float
    p95: float
    max: float

    def limit(self) -> str | None:
        """Which limit this level reached, if any."""
        if self.dropped:
            return f"{self.dropped} viewer(s) dropped"
        if self.p95 > P95_LIMIT_MS:
            return "p95 > 2 s"
        if self.hub_cpu >= HUB_CPU_LIMIT:
            return "hub process at 90 % of a core"
        return None


async def measure(
    label: str, port: int, token: str, cameras: list[str], count: int, seconds: float, pids: tuple[int, int]
) -> Level:
    """Open ``count`` viewers round-robin over ``cameras`` for ``seconds``; their figures."""
    hub, edge = pids
    targets = [cameras[i % len(cameras)] for i in range(count)]
    hub0, edge0, own0 = cpu_s(hub), cpu_s(edge), time.process_time()
    busy0, t0 = machine_busy(), time.monotonic()
    viewers = await asyncio.gather(*(watch(port, c, token, seconds) for c in targets))
    elapsed = time.monotonic() - t0
    busy1 = machine_busy()
    hub_cpu = (cpu_s(hub) - hub0) / elapsed * 100
    edge_cpu = (cpu_s(edge) - edge0) / elapsed * 100
    bench_cpu = (time.process_time() - own0) / elapsed * 100
    machine = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * 100
    lat = await asyncio.to_thread(latencies_ms, list(viewers))
    if len(lat) < 20:
        raise SystemExit(f"{label} x{count}: only {len(lat)} stamped frames decoded")
    rates = [v.size * 8 / seconds / 1000 for v in viewers]
    return Level(
        label=label,
        viewers=count,
        cameras=len(set(targets)),
        hub_cpu=hub_cpu,
        edge_cpu=edge_cpu,
        bench_cpu=bench_cpu,
        machine=machine,
        kbit_min=min(rates),
        kbit_mean=statistics.fmean(rates),
        dropped=sum(v.closed_early for v in viewers),
        frames=len(lat),
        p50=statistics.median(lat),
        p95=statistics.quantiles(lat, n=20)[18],
        max=max(lat),
    )


async def run(args: argparse.Namespace, base: Path) -> list[Level]:
    """The whole bench in ``base``; the figures of each level."""
    topo: Topology = build_topology(base / "nats", centers=[CENTER], own_subject_only=True)
    await topo.start()
    port = free_port()
    env = {**os.environ, "HWARANG_ADMIN_PASSWORD": ADMIN_PASSWORD}
    hub_site = write_site(base / "hub.yaml", topo.hub_bus_config(), base, port, args.cameras)
    edge_site = write_site(base / "edge.yaml", topo.edge_bus_config(CENTER), base, port, args.cameras)
    hub = _start(["hub", "--config", str(hub_site)], base / "hub.log", env)
    edge = _start(["edge", "--config", str(edge_site)], base / "edge.log", env)
    cameras = camera_ids(args.cameras)
    levels: list[Level] = []
    try:
        health = f"http://127.0.0.1:{port}/api/v1/health"
        await asyncio.to_thread(_wait, lambda: _json(health).get("status") == "ok", 60, "the hub")
        token = (await asyncio.to_thread(
            _json, f"http://127.0.0.1:{port}/api/v1/auth/token", None,
            {"username": "admin", "password": ADMIN_PASSWORD},
        ))["access_token"]  # fmt: skip
        await measure("warm-up", port, token, cameras, len(cameras), 3.0, (hub.pid, edge.pid))
        plan = [("one camera", cameras[:1], n) for n in args.one] + [
            (f"{len(cameras)} cameras", cameras, n) for n in args.spread
        ]
        for label, targets, count in plan:
            level = await measure(label, port, token, targets, count, args.view_s, (hub.pid, edge.pid))
            print(_row(level), flush=True)
            levels.append(level)
        return levels
    finally:
        await asyncio.to_thread(_stop, edge)
        await asyncio.to_thread(_stop, hub)
        await topo.stop()


def _row(r: Level) -> str:
    return (
        f"| {r.label} | {r.viewers} | {r.hub_cpu:.1f} | {r.edge_cpu:.1f} | {r.bench_cpu:.1f} "
        f"| {r.machine:.0f} "
        f"| {r.kbit_min:.0f} / {r.kbit_mean:.0f} | {r.dropped} "
        f"| {r.p50:.0f} / {r.p95:.0f} / {r.max:.0f} ({r.frames}) |"
    )


def _counts(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=_counts, default=[1, 5, 10, 20, 40, 80], help="Viewers, one camera.")
    parser.add_argument("--spread", type=_counts, default=[4, 20, 40, 80], help="Viewers, all cameras.")
    parser.add_argument("--cameras", type=int, default=4, help="Synthetic cameras at the edge.")
    parser.add_argument("--view-s", type=float, default=5.0, help="Seconds each level is held.")
    args = parser.parse_args()
    if max(args.one + args.spread, default=0) > 200 or args.cameras > 16:
        raise SystemExit("bounded: at most 200 viewers and 16 cameras")
    print(f"host: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus")
    print(
        "| cameras | viewers | hub CPU % | edge CPU % | viewer proc CPU % | machine busy % "
        "| kbit/s per viewer min / mean | dropped | latency p50 / p95 / max ms (frames) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="viewers-bench-") as tmp:
        levels = asyncio.run(run(args, Path(tmp)))
    limit = next(((r, r.limit()) for r in levels if r.limit()), None)
    if limit is None:
        print(f"no limit reached up to {max(r.viewers for r in levels)} viewers", end="")
    else:
        print(f"first limit: {limit[0].label} x{limit[0].viewers}: {limit[1]}", end="")
    print(f" (bench {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
