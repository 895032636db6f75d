"""Clips over a real leaf node and hub: raised while the uplink is cut, they arrive once when it returns.

The edge side is the real ``BusPublisher`` and ``ClipPublisher`` on the center's leaf node; clips are
cut by a real ``ClipRecorder`` from generated frames. The hub side is a ``HubService`` on SQLite with
the real ``IngestWorker`` and ``ClipWorker`` on the hub's NATS server (whose streams source the leaf).
"""

import asyncio
import contextlib
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hwarang.bus.config import CLIPS_STREAM, EVENTS_STREAM
from hwarang.bus.healer import SourceHealer
from hwarang.bus.topology import Topology, build_topology
from hwarang.cli import app
from hwarang.domain import EventMessage
from hwarang.edge.clip_publisher import ClipPublisher
from hwarang.edge.frame import Frame
from hwarang.edge.media.clips import Clip, ClipConfig, ClipRecorder
from hwarang.edge.publisher import BusPublisher
from hwarang.hub.evidence.clip_worker import ClipWorker
from hwarang.hub.evidence.package import export_package
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import EventRow
from tests.hub_support import FAST_HASHER, make_message

pytestmark = pytest.mark.integration

CENTER = "seoul-jung"
FPS = 10.0
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def topo(tmp_path: Path) -> AsyncIterator[Topology]:
    topology = build_topology(tmp_path / "nats", centers=[CENTER])
    await topology.start()
    try:
        yield topology
    finally:
        await topology.stop()


def _cut_clips(messages: list[EventMessage], start_index: int) -> list[tuple[list[EventMessage], Clip]]:
    """One real clip per event (2 s before, 1 s after), cut from generated frames."""
    out: list[tuple[list[EventMessage], Clip]] = []

    def on_clip(keys: list[object], clip: Clip | None) -> None:
        assert clip is not None
        out.append(([k for k in keys if isinstance(k, EventMessage)], clip))

    recorder = ClipRecorder("cam-01", ClipConfig(pre_s=2.0, post_s=1.0), FPS, on_clip)
    due = {start_index + 25 + 30 * i: m for i, m in enumerate(messages)}
    for i in range(start_index, start_index + 30 * len(messages) + 20):
        image = np.full((96, 128, 3), (i * 7) % 255, dtype=np.uint8)
        frame = Frame(image, i, i / FPS, T0 + timedelta(seconds=i / FPS))
        if i in due:
            recorder.request(due[i], frame.pts_s)
        recorder.add_frame(frame)
    recorder.finish()
    return out


async def _until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _clip_of(service: HubService, message: EventMessage) -> str | None:
    with service.database.session() as session:
        row = session.get(EventRow, message.event.id)
        clip = None if row is None else row.payload.get("clip")
    return clip.get("sha256") if isinstance(clip, dict) else None


async def test_clips_raised_during_a_cut_arrive_once_and_go_into_the_evidence_package(
    topo: Topology, tmp_path: Path
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    database.migrate()
    service = HubService(database, EvidenceStore(tmp_path / "evidence"), password_hasher=FAST_HASHER)
    loop = asyncio.get_running_loop()
    edge_bus = await topo.connect_edge(CENTER)
    hub_bus = await topo.connect_hub()
    events = BusPublisher(edge_bus, loop)
    clips = ClipPublisher(edge_bus, loop)
    clips.start()
    ingest = IngestWorker(hub_bus, service.ingest)
    clip_worker = ClipWorker(hub_bus, service.clips)
    stop = asyncio.Event()
    healers = [SourceHealer(hub_bus, s, interval_s=0.5) for s in (EVENTS_STREAM, CLIPS_STREAM)]
    tasks = [asyncio.create_task(ingest.run(stop)), asyncio.create_task(clip_worker.run(stop))]
    tasks += [asyncio.create_task(h.run(stop)) for h in healers]
    before = make_message(track_id=1, occurred_at=T0 + timedelta(seconds=2.5))
    during = [make_message(track_id=2 + i, occurred_at=T0 + timedelta(seconds=40 + 3 * i)) for i in range(3)]
    try:
        await asyncio.to_thread(events, before)
        for messages, clip in _cut_clips([before], 0):
            clips(messages, clip)
        await _until(lambda: _clip_of(service, before) is not None, 30, "the first clip")

        await topo.hub.stop()  # the uplink is cut: the edge keeps publishing into its leaf
        cut = _cut_clips(during, 400)
        for message in during:
            await asyncio.to_thread(events, message)
        for messages, clip in cut:
            clips(messages, clip)
        assert await asyncio.to_thread(clips.wait_idle, 20.0)
        held, _, _ = await edge_bus.stream_state(CLIPS_STREAM)
        assert held >= len(during)  # stored at the leaf while the hub is away
        assert all(_clip_of(service, m) is None for m in during)

        await topo.hub.start()
        await topo.wait_leaves_connected()
        await _until(lambda: all(_clip_of(service, m) for m in during), 90, "the clips raised during the cut")
        sent = clips.stats.chunks
        for messages, clip in cut:  # sent again (e.g. an edge restart): the leaf stores them once
            clips(messages, clip)
        assert await asyncio.to_thread(clips.wait_idle, 20.0)
        assert clips.stats.duplicates == clips.stats.chunks - sent > 0
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=15)
        clips.stop()

    stored = sorted(p.stem for p in (tmp_path / "evidence" / "clips").rglob("*.mp4"))
    expected = sorted({clip.ref.sha256 for _, clip in cut} | {_clip_of(service, before) or ""})
    assert stored == expected  # each clip once, by its hash
    assert clip_worker.stats.clips == len(expected)
    assert clip_worker.stats.invalid == 0
    for message, (_, clip) in zip(during, cut, strict=True):
        assert _clip_of(service, message) == clip.ref.sha256

    incident_id = _incident_of(service, during[0])
    package = tmp_path / "package.zip"
    built = export_package(database, service.evidence, incident_id, package, creator="test")
    assert f"clips/{cut[0][1].ref.sha256}.mp4" in built.manifest.clips
    with zipfile.ZipFile(package) as archive:
        data = archive.read(f"clips/{cut[0][1].ref.sha256}.mp4")
        audit = archive.read("audit.jsonl").decode()
    assert data == cut[0][1].data
    assert "evidence.clip" in audit
    result = CliRunner().invoke(
        app,
        [
            "evidence",
            "verify",
            str(package),
            "--manifest-sha256",
            built.manifest_sha256,
            "--database-url",
            f"sqlite:///{tmp_path / 'hub.db'}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ok" in result.output
    database.close()


def _incident_of(service: HubService, message: EventMessage) -> uuid.UUID:
    with service.database.session() as session:
        row = session.get(EventRow, message.event.id)
        assert row is not None and row.incident_id is not None
        return row.incident_id
