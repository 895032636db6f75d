"""Running ``hwarang hub`` as a real child process in tests, and reading what it stored."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from hwarang.bus.config import NatsBusConfig
from hwarang.bus.server import free_port
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import EventRow, IncidentRow

ADMIN_PASSWORD = "outage-test-admin-pw"


def bus_section(config: NatsBusConfig) -> dict[str, Any]:
    """The ``bus:`` mapping of ``config`` with its password in clear (for a test's own file)."""
    section = config.model_dump(mode="json", exclude_none=True)
    if config.password is not None:
        section["password"] = config.password.get_secret_value()
    return section


def write_hub_config(path: Path, *, bus: NatsBusConfig, data_dir: Path, database_url: str, port: int) -> Path:
    """A site file for a hub process on loopback."""
    doc = {
        "site_name": "outage-test",
        "bus": bus_section(bus),
        # Fusion off: one incident per event, so incident seq is the ingest order the outage test checks.
        "hub": {
            "data_dir": str(data_dir),
            "database_url": database_url,
            "ingest_batch": 256,
            "fusion": {"enabled": False},
        },
        "api": {"host": "127.0.0.1", "port": port},
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class HubProcess:
    """One ``python -m hwarang hub --config FILE`` child; its output goes to ``log_path``."""

    config_path: Path
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/health"

    def start(self) -> None:
        env = {**os.environ, "HWARANG_ADMIN_PASSWORD": ADMIN_PASSWORD}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hwarang", "hub", "--config", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )

    def wait_healthy(self, timeout_s: float) -> dict[str, Any]:
        """The first health answer with status ok; RuntimeError (with the log) otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"hub process exited early:\n{self.log_tail()}")
            body = self.health()
            if body is not None and body.get("status") == "ok":
                return body
            time.sleep(0.2)
        raise RuntimeError(f"hub not healthy after {timeout_s:.0f} s:\n{self.log_tail()}")

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2.0) as resp:
                parsed: dict[str, Any] = json.loads(resp.read())
                return parsed
        except (OSError, ValueError, urllib.error.HTTPError):
            return None

    def terminate(self, timeout_s: float = 20.0) -> int:
        """SIGTERM (graceful), SIGKILL after ``timeout_s``; returns the exit code."""
        proc = self.proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5.0)
        self.proc = None
        return int(proc.returncode)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def new_hub_process(tmp_path: Path, name: str, config_path: Path, port: int) -> HubProcess:
    """A not yet started hub process logging to ``tmp_path/<name>.log``."""
    return HubProcess(config_path, port, tmp_path / f"{name}.log")


def api_port() -> int:
    """A free loopback port for a hub's API."""
    return free_port()


@dataclass(frozen=True)
class StoredEvent:
    """One stored event with the seq of the incident it opened (the hub's ingest order)."""

    seq: int
    event_id: str
    camera_id: str
    occurred_at: float
    frame_index: int


def stored_events(database_url: str) -> list[StoredEvent]:
    """Every stored event in ingest order (incident seq)."""
    db = Database(database_url)
    try:
        with db.session() as session:
            stmt = (
                select(
                    IncidentRow.seq, EventRow.id, EventRow.camera_id, EventRow.occurred_at, EventRow.payload
                )
                .join(IncidentRow, EventRow.incident_id == IncidentRow.id)
                .order_by(IncidentRow.seq)
            )
            return [
                StoredEvent(seq, str(event_id), camera, at.timestamp(), int(payload["frame_index"]))
                for seq, event_id, camera, at, payload in session.execute(stmt)
            ]
    finally:
        db.close()


def count_events(database_url: str) -> int:
    """Rows in the events table."""
    db = Database(database_url)
    try:
        with db.session() as session:
            return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)
    finally:
        db.close()


async def poll(predicate: Callable[[], bool], *, timeout_s: float, interval_s: float = 0.1) -> bool:
    """Call ``predicate`` until it is true or ``timeout_s`` passed (bounded in count and time)."""
    deadline = time.monotonic() + timeout_s
    for _ in range(int(timeout_s / interval_s) + 1):
        if predicate():
            return True
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(interval_s)
    return predicate()
