"""NATS decentralized auth from ``hwarang nats config --auth jwt``: real servers on loopback.

The national hub and a center's leaf node trust one operator; every user is a JWT signed by the
``HWARANG`` account (nkeys) in a .creds file, with its permissions inside. The leaf links with its
creds; the edge publishes on its own subject (another center's is refused); the hub's stream
sources the event; a client without creds is refused.
"""

import asyncio
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hwarang.bus import BusError
from hwarang.bus.config import NatsBusConfig, build_bus
from hwarang.bus.natsconfig import (
    EDGE_LOCAL_USER,
    HUB_USER,
    Listen,
    SecretStore,
    center_domain,
    write_hub_config,
    write_leaf_config,
)
from hwarang.bus.natsjwt import NatsAuthority
from hwarang.bus.server import LOOPBACK, NatsServerProcess, free_port
from hwarang.bus.subjects import EVENTS_ALL

pytestmark = pytest.mark.integration

CENTER = "seoul-cc"


def _leafnodes(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return int(json.loads(resp.read()).get("leafnodes", 0))
    except (OSError, ValueError):
        return 0


def _bus(server: NatsServerProcess, creds: Path | None, **values: Any) -> NatsBusConfig:
    auth = {} if creds is None else {"creds_file": str(creds)}
    return NatsBusConfig.model_validate(
        {"type": "nats", "servers": [server.client_url], "first_connect_wait_s": 3.0, "api_timeout_s": 3.0,
         **auth, **values}
    )  # fmt: skip


async def test_jwt_users_leaf_link_and_own_subject_only(tmp_path: Path) -> None:
    authority = NatsAuthority.load_or_create(tmp_path / "operator-keys.json")
    assert (tmp_path / "operator-keys.json").stat().st_mode & 0o777 == 0o600
    store = SecretStore(tmp_path / "secrets.json", environ={})
    hub_listen = Listen(LOOPBACK, free_port(), free_port(), free_port())
    leaf_listen = Listen(LOOPBACK, free_port(), free_port())
    hub_cfg = write_hub_config(
        tmp_path / "hub", role="national", hub_id="hq", store_dir=tmp_path / "hub-js", store=store,
        leaves=[CENTER], agencies=["police"], listen=hub_listen, max_file_store="1G", authority=authority,
    )  # fmt: skip
    leaf_cfg = write_leaf_config(
        tmp_path / "leaf", center_id=CENTER, store_dir=tmp_path / "leaf-js", store=store,
        uplink_urls=[f"nats-leaf://{LOOPBACK}:{hub_listen.leaf_port}"], listen=leaf_listen,
        max_file_store="1G", authority=authority,
    )  # fmt: skip
    assert "password" not in hub_cfg.config_path.read_text() + leaf_cfg.config_path.read_text()
    hub = NatsServerProcess(
        hub_cfg.config_path, name="hub", port=hub_listen.port, monitor_port=hub_listen.http_port
    )
    leaf = NatsServerProcess(
        leaf_cfg.config_path, name="leaf", port=leaf_listen.port, monitor_port=leaf_listen.http_port
    )
    async with hub, leaf:
        for _ in range(200):  # bounded: 20 s for the leaf link (authenticated by its creds)
            if await asyncio.to_thread(_leafnodes, f"{hub.monitor_url}/leafz") >= 1:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the leaf did not link to the hub with its JWT credentials")
        edge = await build_bus(
            _bus(leaf, leaf_cfg.creds[EDGE_LOCAL_USER], manage_streams="edge", center_id=CENTER)
        )
        central = await build_bus(
            _bus(hub, hub_cfg.creds[HUB_USER], manage_streams="hub", leaf_domains=[center_domain(CENTER)],
                 share_agencies=["police"])
        )  # fmt: skip
        try:
            await edge.publish(f"hwarang.events.11.11140.{CENTER}", b'{"n": 1}', msg_id="own")
            with pytest.raises(BusError):
                await edge.publish("hwarang.events.26.26110.busan-cc", b'{"n": 2}', msg_id="other")
            sub = await central.subscribe(EVENTS_ALL, durable="jwt-test")
            got: list[bytes] = []
            deadline = time.monotonic() + 20.0
            while not got and time.monotonic() < deadline:
                for delivery in await sub.fetch(batch=4, timeout_s=1.0):
                    got.append(delivery.data)
                    await delivery.ack()
            await sub.close()
            assert got == [b'{"n": 1}']
        finally:
            await edge.close()
            await central.close()
        with pytest.raises(BusError):
            await build_bus(_bus(hub, None, manage_streams="none"))
        # An agency's JWT carries its permissions: it cannot read the events subjects.
        police = await build_bus(_bus(hub, hub_cfg.creds["police"], manage_streams="none"))
        try:
            with pytest.raises(BusError):
                await police.publish(f"hwarang.events.11.11140.{CENTER}", b"{}", msg_id="police")
        finally:
            await police.close()
