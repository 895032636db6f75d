"""A site with one stamped synthetic camera for live-view tests, and ``hwarang edge`` as a child."""

import asyncio
import sys
from pathlib import Path
from typing import Any

import yaml

from hwarang.bus.config import NatsBusConfig
from tests.integration.hubproc_support import bus_section

CENTER = "goseong-cc"
CAMERA = "gos-live-01"


def live_site(path: Path, bus: NatsBusConfig, data_dir: Path, port: int) -> Path:
    """A site file: center ``CENTER`` with one stamped synthetic camera (analysis at 1 fps), on ``bus``."""
    camera: dict[str, Any] = {
        "id": CAMERA,
        "name": "live test camera",
        "position": {"lat": 38.38, "lon": 128.47},
        "source": {"type": "synthetic", "width": 640, "height": 360, "fps": 10, "figures": 0, "stamp": True},
        "detector": {"type": "motion"},
        "analysis_fps": 1.0,
    }
    doc = {
        "site_name": "live-test",
        "bus": bus_section(bus),
        "hub": {
            "data_dir": str(data_dir / "hub"),
            "database_url": f"sqlite:///{data_dir / 'hub.db'}",
            "fusion": {"enabled": False},
        },
        "api": {"host": "127.0.0.1", "port": port},
        "edge": {"centers": [{"id": CENTER, "name": "고성군 통합관제센터", "cameras": [camera]}]},
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


async def start_edge_process(config: Path, log: Path) -> asyncio.subprocess.Process:
    """``python -m hwarang edge --config FILE`` with its output in ``log``."""
    handle = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hwarang", "edge", "--config", str(config),
            stdout=handle, stderr=handle, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        handle.close()


async def stop_edge_process(edge: asyncio.subprocess.Process, log: Path) -> tuple[int, str]:
    """SIGTERM, then the exit code and the log."""
    if edge.returncode is None:
        edge.terminate()
    try:
        code = await asyncio.wait_for(edge.wait(), timeout=20)
    except TimeoutError:
        edge.kill()
        code = await edge.wait()
    text = await asyncio.to_thread(log.read_text, errors="replace")
    return code, text
