"""Hub and edge as separate processes over NATS; dead letters on NATS; the demo on a local NATS server."""

import asyncio
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from hwarang.bus.config import DEADLETTER_STREAM, NatsBusConfig, build_bus
from hwarang.bus.nats import NatsBus
from hwarang.bus.server import NatsServerProcess
from hwarang.bus.subjects import dead_letter_subject, event_subject
from hwarang.config import load_config
from hwarang.config.loader import default_config_text
from hwarang.runtime.embedded import run_site
from hwarang.runtime.hub import HubRuntime, serve_hub
from hwarang.runtime.local_nats import local_bus_config, local_nats_server
from tests.hub_support import make_message
from tests.integration.hubproc_support import api_port, bus_section, count_events, new_hub_process, poll

pytestmark = pytest.mark.integration

SUBJECT = event_subject("11", "11140", "seoul-jung")
GOSEONG = "goseong-cc"


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=2.0) as resp:
        parsed: dict[str, Any] = json.loads(resp.read())
        return parsed


def _site(tmp_path: Path, name: str, bus: NatsBusConfig, *, edge: bool, port: int) -> Path:
    """A site file: the demo's Goseong synthetic cameras (4x speed) on ``bus``."""
    raw = yaml.safe_load(default_config_text())
    centers = [c for c in raw["edge"]["centers"] if c["id"] == GOSEONG]
    for camera in centers[0]["cameras"]:
        camera["source"]["speed"] = 4.0
    raw["edge"]["centers"] = centers
    raw["bus"] = bus_section(bus)
    raw["hub"] = {"data_dir": str(tmp_path / "hub"), "database_url": f"sqlite:///{tmp_path / 'hub.db'}"}
    raw["api"] = {"host": "127.0.0.1", "port": port}
    if not edge:
        raw["edge"]["centers"][0]["cameras"] = [
            {**c, "enabled": False} for c in raw["edge"]["centers"][0]["cameras"]
        ]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


async def test_bad_messages_on_nats_are_dead_lettered_counted_and_the_hub_goes_on(tmp_path: Path) -> None:
    port = api_port()
    async with local_nats_server(tmp_path / "nats") as server:
        bus_cfg = local_bus_config(server, name="hub")
        config = load_config(_site(tmp_path, "hub", bus_cfg, edge=False, port=port))
        stop = asyncio.Event()
        runtimes: list[HubRuntime] = []
        hub_task = asyncio.create_task(
            serve_hub(config, admin_password="pw-1234567890", announce=runtimes.append, stop=stop)
        )
        publisher = await build_bus(bus_cfg.model_copy(update={"manage_streams": "none", "name": "pub"}))
        try:
            assert await poll(lambda: bool(runtimes), timeout_s=20.0), "hub did not start"
            wrong_schema = json.loads(make_message().model_dump_json())
            del wrong_schema["event"]["camera_id"]
            first, last = make_message(track_id=1, seed=1), make_message(track_id=2, seed=2)
            await publisher.publish(SUBJECT, first.model_dump_json().encode(), msg_id=str(first.event.id))
            await publisher.publish(SUBJECT, b"{not json", msg_id="bad-1")
            await publisher.publish(SUBJECT, json.dumps(wrong_schema).encode(), msg_id="bad-2")
            await publisher.publish(SUBJECT, last.model_dump_json().encode(), msg_id=str(last.event.id))
            stats = runtimes[0].ingest.stats
            await poll(lambda: stats.ingested + stats.invalid >= 4, timeout_s=15.0)
            assert (stats.ingested, stats.invalid) == (2, 2), stats
            health = await asyncio.to_thread(_get_json, f"http://127.0.0.1:{port}/api/v1/health")
            assert health["extra"]["dead_letters"] == 2
            assert health["extra"]["ingest"]["invalid"] == 2
            assert health["hub"]["events"] == 2, "the valid message after the bad ones was stored too"
            assert isinstance(publisher, NatsBus)
            messages, _, _ = await publisher.stream_state(DEADLETTER_STREAM)
            assert messages == 2
            letters = await (
                await publisher.subscribe(dead_letter_subject("invalid_event"), durable="t")
            ).fetch(10, 2.0)
            assert [d.data for d in letters] == [b"{not json", json.dumps(wrong_schema).encode()]
            assert "json_invalid" in letters[0].headers["hwarang-error"]
            assert "event.camera_id" in letters[1].headers["hwarang-error"]
            assert {d.headers["hwarang-original-subject"] for d in letters} == {SUBJECT}
        finally:
            stop.set()
            await asyncio.wait_for(hub_task, timeout=30)
            await publisher.close()


async def test_hub_and_edge_processes_talk_only_through_nats(tmp_path: Path) -> None:
    port = api_port()
    async with local_nats_server(tmp_path / "nats") as server:
        hub_cfg = local_bus_config(server, name="hub")
        edge_cfg = hub_cfg.model_copy(update={"name": "edge", "manage_streams": "none"})
        hub = new_hub_process(tmp_path, "hub", _site(tmp_path, "hub", hub_cfg, edge=False, port=port), port)
        edge_path = _site(tmp_path, "edge", edge_cfg, edge=True, port=port)
        edge_log = tmp_path / "edge.log"
        edge = await _start_edge(edge_path, edge_log)
        try:
            hub.start()
            body = await asyncio.to_thread(hub.wait_healthy, 30.0)
            assert body["extra"]["bus"] == {
                "type": "nats",
                "connected": True,
                "disconnects": 0,
                "reconnects": 0,
            }
            db_url = f"sqlite:///{tmp_path / 'hub.db'}"
            await poll(lambda: count_events(db_url) >= 1, timeout_s=25.0, interval_s=0.5)
            health = await asyncio.to_thread(hub.health)
            assert health is not None and health["hub"]["events"] >= 1, edge_log.read_text()[-3000:]
            assert health["extra"]["ingest"]["ingested"] >= 1
        finally:
            edge.terminate()
            edge_code = await asyncio.wait_for(edge.wait(), timeout=20)
            hub_code = await asyncio.to_thread(hub.terminate)
        assert edge_code == 0, edge_log.read_text()[-3000:]
        assert hub_code == 0, hub.log_tail()
        assert "events published" in edge_log.read_text(), "the edge logs its summary when it stops"


async def _start_edge(config: Path, log: Path) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hwarang", "edge", "--config", str(config),
            stdout=handle, stderr=handle, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        handle.close()


async def test_embedded_site_runs_on_a_local_nats_server(tmp_path: Path) -> None:
    async with local_nats_server(tmp_path / "nats", name="demo-nats") as server:
        assert isinstance(server, NatsServerProcess) and server.running
        config = load_config(None)
        config = config.model_copy(
            update={
                "bus": local_bus_config(server, name="demo"),
                "hub": config.hub.model_copy(update={"data_dir": tmp_path / "hub"}),
                "edge": config.edge.model_copy(update={"centers": []}),
            }
        )
        async with run_site(config, admin_password="pw-1234567890") as site:
            assert isinstance(site.bus, NatsBus)
            message = make_message()
            await site.bus.publish(SUBJECT, message.model_dump_json().encode(), msg_id=str(message.event.id))
            await poll(lambda: site.ingest.stats.ingested >= 1, timeout_s=10.0)
            assert site.service.incidents.event(message.event.id) == message.event
