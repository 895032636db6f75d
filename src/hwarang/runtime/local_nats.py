"""A private nats-server for one process tree: ``hwarang demo --bus nats`` and the hub benchmark.

It listens on a free loopback port, runs JetStream with its store under the given folder and has
no users (loopback only). Production servers use the configs of ``hwarang.bus.natsconfig``.
"""

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

from hwarang.bus.config import NatsBusConfig
from hwarang.bus.server import NatsServerProcess

CONFIG_NAME = "local-nats.conf"


def write_local_config(folder: Path, *, max_file_store: str = "2G") -> Path:
    """Write a standalone JetStream config (store in ``folder/js``); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    store = json.dumps(str((folder / "js").resolve()))
    path = folder / CONFIG_NAME
    path.write_text(
        "# Hwarang local nats-server (loopback, no users): demo and benchmarks only\n"
        f"jetstream {{\n  store_dir: {store}\n  max_file_store: {json.dumps(max_file_store)}\n}}\n"
        "max_payload: 8MB\n",
        encoding="utf-8",
    )
    return path


@contextlib.asynccontextmanager
async def local_nats_server(folder: Path, *, name: str = "local") -> AsyncIterator[NatsServerProcess]:
    """Start a local nats-server for the duration of the block."""
    server = NatsServerProcess(write_local_config(folder), name=name)
    async with server:
        yield server


def local_bus_config(server: NatsServerProcess, *, name: str = "hwarang") -> NatsBusConfig:
    """A ``bus:`` section for a process that owns ``server`` (creates the hub streams)."""
    return NatsBusConfig(type="nats", servers=[server.client_url], name=name, first_connect_wait_s=10.0)
