"""Live view through a leaf node and a hub: latency camera -> viewer, CPU per view, bytes without one.

    python bench/live_video.py [--view-s 20] [--idle-s 6] [--width 640] [--height 360]

Starts a national hub and one center's leaf node (nats-server, loopback), ``hwarang hub`` and
``hwarang edge`` as processes; the edge runs one synthetic camera at 10 fps that stamps its frame
counter and capture time into each frame (motion analytics at 1 fps). One event opens an incident;
the bench then logs in as admin and:

1. with no viewer, counts the bytes the edge publishes to its leaf and the bytes on the leaf link;
2. measures the edge's and the hub's CPU (``/proc``) with one live view, then again once the view
   ended and the edge stopped sending (the difference is the remux at the edge, the relay at the hub);
3. reads the stamp back from every decoded frame at the viewer (the hub's WebSocket, as the page
   gets it) and reports capture -> decoded latency p50/p95 (the fragment per GOP is part of it).

Prints the figures for docs/benchmarks.md. Runs in about a minute.
"""

import argparse
import asyncio
import io
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import yaml
from websockets.asyncio.client import connect as ws_connect

from hwarang.bus.config import NatsBusConfig
from hwarang.bus.server import free_port
from hwarang.bus.subjects import event_subject
from hwarang.bus.topology import Topology, build_topology, client_in_bytes, leaf_link_bytes
from hwarang.domain import BoundingBox, EventMessage, GeoPoint, ObjectClass, RuleKind
from hwarang.domain.event import Event, stable_event_id
from hwarang.edge.sources.stamp import age_ms, read_stamp

CENTER = "goseong-cc"
CAMERA = "gos-live-01"
ADMIN_PASSWORD = "live-bench-admin-pw"
TICKS = os.sysconf("SC_CLK_TCK")


def _bus_section(config: NatsBusConfig) -> dict[str, Any]:
    section = config.model_dump(mode="json", exclude_none=True)
    if config.password is not None:
        section["password"] = config.password.get_secret_value()
    return section


def write_site(path: Path, bus: NatsBusConfig, data_dir: Path, port: int, size: tuple[int, int]) -> Path:
    """A site file with one stamped synthetic camera on ``bus``."""
    camera = {
        "id": CAMERA,
        "name": "live bench camera",
        "position": {"lat": 38.38, "lon": 128.47},
        "source": {"type": "synthetic", "width": size[0], "height": size[1], "fps": 10, "stamp": True},
        "detector": {"type": "motion"},
        "analysis_fps": 1.0,
    }
    doc = {
        "site_name": "live-bench",
        "bus": _bus_section(bus),
        "hub": {"data_dir": str(data_dir / "hub"), "database_url": f"sqlite:///{data_dir / 'hub.db'}"},
        "api": {"host": "127.0.0.1", "port": port},
        "edge": {"centers": [{"id": CENTER, "name": "고성군 통합관제센터", "cameras": [camera]}]},
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _silent(monitor: str, name: str) -> bool:
    before = client_in_bytes(monitor, name)
    time.sleep(1.0)
    return client_in_bytes(monitor, name) == before


def _json(url: str, token: str | None = None, form: dict[str, str] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = urllib.parse.urlencode(form).encode() if form else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as r:
        return json.loads(r.read())


def _wait(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def _event() -> EventMessage:
    now = datetime.now(UTC)
    event = Event(
        id=stable_event_id(CAMERA, "bench", 1, now),
        camera_id=CAMERA,
        center_id=CENTER,
        sido_code="51",
        sigungu_code="51820",
        occurred_at=now,
        object_class=ObjectClass.PERSON,
        confidence=0.9,
        box=BoundingBox(x1=10, y1=20, x2=60, y2=180),
        track_id=1,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="bench",
        geo=GeoPoint(lat=38.38, lon=128.47),
        frame_index=1,
    )
    return EventMessage(event=event)


@dataclass
class View:
    """What one viewer received: messages with their arrival (wall ms), and the decoded latencies."""

    arrivals: list[tuple[int, int]]  # (end offset in the stream, arrival wall ms)
    data: bytes

    def latencies_ms(self) -> list[int]:
        """Capture -> arrival of the fragment holding each frame, per decoded frame."""
        out: list[int] = []
        with av.open(io.BytesIO(self.data), "r") as container:
            for packet in container.demux(video=0):
                if packet.pos is None or packet.pos < 0:
                    continue
                arrived = next((ms for end, ms in self.arrivals if packet.pos < end), None)
                for frame in packet.decode():
                    stamp = read_stamp(frame.to_ndarray(format="gray"))
                    if stamp is not None and arrived is not None:
                        out.append(age_ms(stamp[1], arrived))
        return out


async def watch(port: int, incident_id: str, token: str, seconds: float) -> View:
    """Receive the live view for ``seconds``."""
    url = f"ws://127.0.0.1:{port}/api/v1/incidents/{incident_id}/live?token={token}"
    chunks: list[bytes] = []
    arrivals: list[tuple[int, int]] = []
    size = 0
    deadline = time.monotonic() + seconds
    async with ws_connect(url, max_size=None) as ws:
        while time.monotonic() < deadline:
            try:
                data = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            assert isinstance(data, bytes)
            size += len(data)
            chunks.append(data)
            arrivals.append((size, time.time_ns() // 1_000_000))
    return View(arrivals, b"".join(chunks))


def _start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "hwarang", *args], stdout=handle, stderr=subprocess.STDOUT, env=env
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def run(args: argparse.Namespace, base: Path) -> dict[str, float]:
    """The whole bench in ``base``; returns the figures."""
    topo: Topology = build_topology(base / "nats", centers=[CENTER], own_subject_only=True)
    await topo.start()
    port = free_port()
    size = (args.width, args.height)
    env = {**os.environ, "HWARANG_ADMIN_PASSWORD": ADMIN_PASSWORD}
    hub_site = write_site(base / "hub.yaml", topo.hub_bus_config(), base, port, size)
    edge_site = write_site(base / "edge.yaml", topo.edge_bus_config(CENTER), base, port, size)
    hub = _start(["hub", "--config", str(hub_site)], base / "hub.log", env)
    edge = _start(["edge", "--config", str(edge_site)], base / "edge.log", env)
    monitor = topo.centers[CENTER].server.monitor_url
    try:
        health = f"http://127.0.0.1:{port}/api/v1/health"
        await asyncio.to_thread(_wait, lambda: _json(health).get("status") == "ok", 60, "the hub")
        token = (await asyncio.to_thread(
            _json, f"http://127.0.0.1:{port}/api/v1/auth/token", None,
            {"username": "admin", "password": ADMIN_PASSWORD},
        ))["access_token"]  # fmt: skip
        bus = await topo.connect_edge(CENTER)
        message = _event()
        await bus.publish(
            event_subject("51", "51820", CENTER),
            message.model_dump_json().encode(),
            msg_id=str(message.event.id),
        )

        def incident() -> str | None:
            rows = _json(f"http://127.0.0.1:{port}/api/v1/incidents", token)
            return next((r["id"] for r in rows if r["camera_id"] == CAMERA), None)

        incident_id = await asyncio.to_thread(_wait, incident, 60, "the incident")
        name = f"edge-{CENTER}"
        await asyncio.to_thread(_wait, lambda: client_in_bytes(monitor, name) > 0, 30, "the edge")

        edge_bytes0, link0, t0 = client_in_bytes(monitor, name), leaf_link_bytes(monitor), time.monotonic()
        await asyncio.sleep(args.idle_s)  # measurement window
        idle_s = time.monotonic() - t0
        idle_edge_bytes = client_in_bytes(monitor, name) - edge_bytes0
        idle_link = leaf_link_bytes(monitor) - link0

        edge_cpu0, hub_cpu0, link0, t0 = (
            cpu_s(edge.pid),
            cpu_s(hub.pid),
            leaf_link_bytes(monitor),
            time.monotonic(),
        )
        view = await watch(port, incident_id, token, args.view_s)
        view_s = time.monotonic() - t0
        view_edge_cpu = (cpu_s(edge.pid) - edge_cpu0) / view_s
        view_hub_cpu = (cpu_s(hub.pid) - hub_cpu0) / view_s
        view_link = leaf_link_bytes(monitor) - link0

        # CPU without a viewer, once the lease lapsed (the edge publishes nothing for a second).
        await asyncio.to_thread(_wait, lambda: _silent(monitor, name), 15, "the edge to stop sending")
        edge_cpu0, hub_cpu0, t0 = cpu_s(edge.pid), cpu_s(hub.pid), time.monotonic()
        await asyncio.sleep(args.idle_s)  # measurement window
        quiet_s = time.monotonic() - t0
        idle_edge_cpu = (cpu_s(edge.pid) - edge_cpu0) / quiet_s
        idle_hub_cpu = (cpu_s(hub.pid) - hub_cpu0) / quiet_s
        latencies = view.latencies_ms()
        if len(latencies) < 20:
            raise SystemExit(f"only {len(latencies)} stamped frames decoded; see {base}/*.log")
        q = statistics.quantiles(latencies, n=20)
        return {
            "frames": len(latencies),
            "p50_ms": statistics.median(latencies),
            "p95_ms": q[18],
            "max_ms": max(latencies),
            "idle_edge_bytes": idle_edge_bytes,
            "idle_link_bytes_per_s": idle_link / idle_s,
            "view_link_bytes_per_s": view_link / view_s,
            "view_kbit_s": len(view.data) * 8 / view_s / 1000,
            "edge_cpu_idle": idle_edge_cpu * 100,
            "edge_cpu_view": view_edge_cpu * 100,
            "hub_cpu_idle": idle_hub_cpu * 100,
            "hub_cpu_view": view_hub_cpu * 100,
        }
    finally:
        await asyncio.to_thread(_stop, edge)
        await asyncio.to_thread(_stop, hub)
        await topo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--view-s", type=float, default=20.0, help="Seconds of live view measured.")
    parser.add_argument("--idle-s", type=float, default=6.0, help="Seconds measured without a viewer.")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp:
        r = asyncio.run(run(args, Path(tmp)))
    print(f"host: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus")
    print(
        f"latency capture -> viewer over {r['frames']:.0f} frames: p50 {r['p50_ms']:.0f} ms, "
        f"p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms"
    )
    print(
        f"no viewer: edge published {r['idle_edge_bytes']:.0f} B in {args.idle_s:.0f} s; leaf link "
        f"{r['idle_link_bytes_per_s']:.0f} B/s (JetStream control plane)"
    )
    link = r["view_link_bytes_per_s"] / 1000
    print(f"one view: {r['view_kbit_s']:.0f} kbit/s of fMP4, leaf link {link:.1f} kB/s")
    print(
        f"CPU (% of a core): edge {r['edge_cpu_idle']:.1f} idle -> {r['edge_cpu_view']:.1f} viewed "
        f"(remux +{r['edge_cpu_view'] - r['edge_cpu_idle']:.1f}); hub {r['hub_cpu_idle']:.1f} -> "
        f"{r['hub_cpu_view']:.1f} (+{r['hub_cpu_view'] - r['hub_cpu_idle']:.1f} relay)"
    )
    print("floor: p95 <= 2000 ms:", "PASS" if r["p95_ms"] <= 2000 else "FAIL")


if __name__ == "__main__":
    main()
