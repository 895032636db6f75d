"""The hub's data directory fills up: health says so, and nothing is lost once space is freed.

The data directory (SQLite store and evidence) is a 16 MiB tmpfs this test mounts (it runs as
root, as CI does) under its own tmp dir and unmounts afterwards. A real ``hwarang hub`` process
ingests from a nats-server of this test. The test fills the file system to the last block, then
publishes 12 events with snapshots: they cannot be written, so the hub keeps them, retries and
reports ``degraded`` (the ``disk`` and ``store`` conditions). When the filler is deleted, every
event is stored once, health returns to ``ok`` and ``PRAGMA quick_check`` still finds the store sound.
"""

import asyncio
import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nats_support import bus_config

from hwarang.bus.config import connect_nats
from hwarang.bus.server import NatsServerProcess
from hwarang.bus.subjects import event_subject
from hwarang.domain import EventMessage
from tests.hub_support import T0, jpeg_bytes, make_event
from tests.integration.hubproc_support import api_port, count_events, new_hub_process, poll, write_hub_config

pytestmark = pytest.mark.integration

SIZE = "16m"
BEFORE, DURING = 5, 12
CHUNK = 64 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted for this test alone."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (this test needs root): {done.stderr.strip()}", pytrace=False)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _message(i: int) -> EventMessage:
    snapshot = jpeg_bytes(i, size=8192)
    event = make_event(track_id=i, occurred_at=T0 + timedelta(seconds=i), snapshot=snapshot)
    return EventMessage(event=event, snapshot_jpeg=snapshot)


def _fill(path: Path) -> int:
    """Write ``path`` until the file system is full; returns the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as f:
        for _ in range(16 * 1024):  # bounded: 1 GiB at most
            try:
                written += f.write(b"\0" * CHUNK)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        for _ in range(CHUNK):  # the last partial chunk, in small pieces
            try:
                written += f.write(b"\0" * 512)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return written


def _conditions(body: dict[str, Any] | None) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in (body or {}).get("conditions", [])}


async def test_full_data_directory_is_reported_and_loses_nothing(
    tmp_path: Path, small_fs: Path, nats_server: NatsServerProcess
) -> None:
    database_url = f"sqlite:///{small_fs / 'hub.db'}"
    port = api_port()
    config = write_hub_config(
        tmp_path / "hub.yaml",
        bus=bus_config(nats_server),
        data_dir=small_fs,
        database_url=database_url,
        port=port,
    )
    hub = new_hub_process(tmp_path, "hub", config, port)
    subject = event_subject("11", "11140", "seoul-jung")
    filler = small_fs / "filler.bin"
    try:
        hub.start()
        await asyncio.to_thread(hub.wait_healthy, 60.0)
        edge = await connect_nats(bus_config(nats_server, manage_streams="none", name="edge"))
        try:
            for i in range(BEFORE):
                message = _message(i)
                await edge.publish(subject, message.model_dump_json().encode(), msg_id=str(message.event.id))
            assert await poll(lambda: count_events(database_url) == BEFORE, timeout_s=30.0), hub.log_tail()

            assert _fill(filler) > 0
            for i in range(BEFORE, BEFORE + DURING):
                message = _message(i)
                await edge.publish(subject, message.model_dump_json().encode(), msg_id=str(message.event.id))
            full: list[dict[str, Any] | None] = []

            def reports_full() -> bool:
                body = hub.health()
                full.append(body)
                conditions = _conditions(body)
                return (
                    body is not None and body["status"] == "degraded" and {"disk", "store"} <= set(conditions)
                )

            assert await poll(reports_full, timeout_s=30.0, interval_s=0.5), (full[-1], hub.log_tail())
            during = full[-1]
            await asyncio.sleep(3.0)
            assert count_events(database_url) == BEFORE, "nothing can be stored while the disk is full"

            filler.unlink()
            assert await poll(lambda: count_events(database_url) == BEFORE + DURING, timeout_s=60.0), (
                hub.log_tail()
            )
            assert await poll(lambda: (hub.health() or {}).get("status") == "ok", timeout_s=20.0), (
                hub.health()
            )
            after = hub.health()
            await asyncio.sleep(1.0)
            assert count_events(database_url) == BEFORE + DURING, "none stored twice"
        finally:
            await edge.close()
        assert await asyncio.to_thread(hub.terminate) == 0, hub.log_tail()
    finally:
        hub.terminate(5.0)

    assert during is not None
    reasons = _conditions(during)
    assert "disk nearly full" in reasons["disk"], reasons
    assert "No space left" in reasons["store"] or "disk is full" in reasons["store"], reasons
    assert after is not None and after["conditions"] == []
    ingest = after["extra"]["ingest"]
    assert (ingest["ingested"], after["extra"]["dead_letters"]) == (BEFORE + DURING, 0)
    assert ingest["outages"] >= 1 and ingest["store_retries"] >= 1
    with contextlib.closing(sqlite3.connect(small_fs / "hub.db")) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok", "the store survived the full disk"
