"""Hub ingest with and without event signature verification, same run, alternating.

    python bench/ingest_signing.py [--events 5000] [--rounds 2] [--centers 50]

Events from ``--centers`` simulated centers (4 cameras each, ``hwarang.edge.loadgen``), each signed
by its center's Ed25519 key, are published to an in-memory bus first (signing is not timed), then
drained by the hub's IngestWorker into a fresh SQLite file, fusion off so
the check's share is visible. Verification *on* registers every center's public key (every event
is checked: signature, center, region, camera, subject); *off* registers none. Runs alternate
off/on ``--rounds`` times. Also printed: Ed25519 verifications/s of the check alone.
Every wait is bounded.
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwarang.bus import MemoryBus, event_subject
from hwarang.domain import EventMessage
from hwarang.edge.loadgen import EventFactory, build_cameras
from hwarang.edge.signing import EventSigner
from hwarang.geo.regions import default_catalog
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from hwarang.hub.sharing.provenance import ProvenanceConfig, ProvenanceVerifier, RegisteredCenter
from hwarang.hub.store.db import Database

DRAIN_LIMIT_S = 120.0


def signed_events(count: int, centers: int) -> tuple[list[tuple[str, bytes, str]], ProvenanceConfig]:
    """(subject, data, msg id) of ``count`` signed events, and the registration of their centers."""
    cameras = build_cameras(default_catalog(), centers=centers, cameras_per_center=4)
    factory = EventFactory(cameras, seed=1)
    signers: dict[str, EventSigner] = {}
    registered: list[RegisteredCenter] = []
    for camera in cameras:
        if camera.center_id not in signers:
            signers[camera.center_id] = EventSigner(camera.center_id, Ed25519PrivateKey.generate())
            registered.append(
                RegisteredCenter(
                    id=camera.center_id,
                    public_key=signers[camera.center_id].public_key,
                    sido_code=camera.sido_code,
                    sigungu_code=camera.sigungu_code,
                    cameras=[c.id for c in cameras if c.center_id == camera.center_id],
                )
            )
    t0 = datetime.now(UTC)
    out: list[tuple[str, bytes, str]] = []
    for i in range(count):
        state = factory.states[i % len(factory.states)]
        message = factory.make(state, t0 + timedelta(milliseconds=i))
        signed = signers[message.event.center_id].sign(message)
        e = signed.event
        out.append((event_subject(e.sido_code, e.sigungu_code, e.center_id), _json(signed), str(e.id)))
    return out, ProvenanceConfig(centers=registered)


def _json(message: EventMessage) -> bytes:
    return message.model_dump_json().encode("utf-8")


async def drain(
    events: list[tuple[str, bytes, str]], verifier: ProvenanceVerifier | None, folder: Path, url: str | None
) -> tuple[float, int, int]:
    """Seconds to store every event from a full bus, stored count, dead-lettered count."""
    db = Database(url or f"sqlite:///{folder / 'hub.db'}")
    db.migrate()
    service = HubService(db, EvidenceStore(folder / "evidence"), fusion=None)
    bus = MemoryBus(max_msgs=len(events) * 2)
    for subject, data, msg_id in events:
        await bus.publish(subject, data, msg_id=msg_id)
    worker = IngestWorker(
        bus, service.ingest, batch=256, provenance=None if verifier is None else verifier.reason
    )
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(int(DRAIN_LIMIT_S / 0.01)):
        if worker.stats.ingested + worker.stats.invalid >= len(events):
            break
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    await bus.close()
    db.close()
    return seconds, worker.stats.ingested, worker.stats.invalid


def verify_rate(events: list[tuple[str, bytes, str]], verifier: ProvenanceVerifier) -> float:
    """Checks per second of the provenance check alone (JSON parse, canonical JSON, Ed25519)."""
    sample = events[: min(len(events), 2000)]
    started = time.perf_counter()
    for subject, data, _ in sample:
        if verifier.reason(subject, data) is not None:
            raise RuntimeError(f"a good event failed the check: {verifier.reason(subject, data)}")
    return len(sample) / (time.perf_counter() - started)


async def main_async(args: argparse.Namespace) -> None:
    events, registration = signed_events(args.events, args.centers)
    verifier = ProvenanceVerifier.from_config(registration)
    assert verifier is not None
    json.loads(events[0][1])  # the data is JSON (sanity)
    rates: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="hwarang-bench-sign-") as tmp:
        for r in range(args.rounds):
            for mode in ("off", "on"):
                folder = Path(tmp) / f"{mode}-{r}"
                folder.mkdir()
                seconds, stored, dead = await drain(events, verifier if mode == "on" else None, folder, None)
                rate = stored / seconds
                rates[mode].append(rate)
                print(f"round {r + 1} verification {mode:3}: {stored} stored, {dead} dead-lettered, "
                      f"{seconds:.2f} s, {rate:,.0f} events/s")  # fmt: skip
    off, on = statistics.mean(rates["off"]), statistics.mean(rates["on"])
    print(f"mean events/s: off {off:,.0f}, on {on:,.0f} (on/off {on / off:.2f})")
    print(f"provenance check alone: {verify_rate(events, verifier):,.0f} events/s on one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events per run (published before draining)")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    parser.add_argument("--centers", type=int, default=50, help="simulated centers (4 cameras each)")
    args = parser.parse_args()
    if args.events < 1 or args.rounds < 1:
        parser.error("--events and --rounds must be at least 1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
