"""Hub ingest step alone, under cProfile: events/s and function calls (load-independent call counts).

    python bench/ingest_step.py [--events 3000] [--batch 256] [--top 0]

Builds the same simulated events as ``bench/hub_ingest.py`` (seed 1, 228 centres x 4 cameras, 3000
events/s of simulated time) without a bus, then ingests them in batches into a fresh, migrated SQLite
hub with fusion on, profiling only the ingest calls. Works on older checkouts too (``2cf6f1a``:
``HubService.ingest_many``), so two worktrees can be compared in the same run.
"""

import argparse
import cProfile
import pstats
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hwarang.geo.regions import default_catalog
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database

try:  # current layout
    from hwarang.edge.loadgen import EventFactory, build_cameras
    from hwarang.hub.evidence.store import EvidenceStore
    from hwarang.hub.fusion.correlation import FusionConfig
except ImportError:  # before the hub restructure (2cf6f1a)
    from hwarang.edge.simulate import EventFactory, build_cameras  # type: ignore[no-redef]

    from hwarang.hub.evidence import EvidenceStore  # type: ignore[no-redef,attr-defined]
    from hwarang.hub.fusion import FusionConfig  # type: ignore[no-redef,attr-defined]

CAMERAS_PER_CENTER = 4
RATE = 3000.0


def _ingest_call(service: HubService) -> Callable[[Sequence[Any]], list[Any]]:
    many = getattr(service, "ingest_many", None)
    if many is not None:
        return many  # type: ignore[no-any-return]
    return service.ingest.batch


def main() -> None:
    """Parse arguments, ingest, print events/s and function calls."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions (tottime)")
    args = parser.parse_args()
    if not 0 < args.events <= 100_000 or not 0 < args.batch <= 10_000:
        parser.error("--events must be 1..100000 and --batch 1..10000")
    cameras = build_cameras(default_catalog(), centers=228, cameras_per_center=CAMERAS_PER_CENTER)
    factory = EventFactory(cameras, seed=1)
    rng = random.Random(1)
    start = datetime.now(UTC).replace(microsecond=0)
    messages = [
        factory.make(factory.states[rng.randrange(len(factory.states))], start + timedelta(seconds=i / RATE))
        for i in range(args.events)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'step.sqlite3'}")
        db.migrate()
        try:
            service = HubService(db, EvidenceStore(Path(tmp) / "evidence"), fusion=FusionConfig())
            ingest = _ingest_call(service)
            profile = cProfile.Profile()
            began = time.perf_counter()
            stored = 0
            for i in range(0, len(messages), args.batch):
                profile.enable()
                results = ingest(messages[i : i + args.batch])
                profile.disable()
                stored += len(results)
            seconds = time.perf_counter() - began
        finally:
            db.close()
    stats = pstats.Stats(profile)
    calls: int = stats.total_calls  # type: ignore[attr-defined]
    print(f"events {stored} seconds {seconds:.2f}  events/s {stored / seconds:.0f}  function calls {calls:,}")
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
