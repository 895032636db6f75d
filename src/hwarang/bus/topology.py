"""A hub and center leaf nodes on loopback, from the generated configs (tests, drills, demos).

``build_topology(base_dir, centers=[...])`` writes a national hub config and one leaf config per
center (free loopback ports, JetStream stores under ``base_dir``) and returns a :class:`Topology`
whose servers are not started yet::

    topo = build_topology(tmp_path, centers=["seoul-cc", "busan-cc"])
    async with topo:                                  # starts hub and leaves, waits for the links
        edge = await topo.connect_edge("seoul-cc")    # NatsBus on the center's leaf (local stream)
        hub = await topo.connect_hub()                # NatsBus on the hub (stream sources leaves)
        await topo.hub.stop()                         # cut: the edge keeps publishing locally
        await topo.hub.start()
        await topo.wait_leaves_connected()
"""

import asyncio
import json
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hwarang.bus.base import BusError
from hwarang.bus.config import NatsBusConfig, build_bus
from hwarang.bus.nats import NatsBus
from hwarang.bus.natsconfig import (
    AGENCIES,
    EDGE_LOCAL_USER,
    HUB_USER,
    NATIONAL_DOMAIN,
    SECRETS_FILE,
    GeneratedConfig,
    Listen,
    SecretStore,
    agency_inbox,
    write_hub_config,
    write_leaf_config,
)
from hwarang.bus.server import LOOPBACK, NatsServerProcess, free_port


@dataclass(slots=True)
class CenterNode:
    """One center: its leaf node server and the config it was started with."""

    center_id: str
    server: NatsServerProcess
    config: GeneratedConfig

    @property
    def domain(self) -> str:
        """The leaf's JetStream domain."""
        return self.config.domain


@dataclass(slots=True)
class Topology:
    """A national hub (domain ``national``) with center leaf nodes, all on loopback."""

    base_dir: Path
    hub: NatsServerProcess
    hub_config: GeneratedConfig
    centers: dict[str, CenterNode]
    secrets: SecretStore
    agencies: tuple[str, ...] = AGENCIES
    _buses: list[NatsBus] = field(default_factory=list)

    async def start(self) -> None:
        """Start the hub, then the leaves, and wait until every leaf is connected."""
        await self.hub.start()
        await asyncio.gather(*(c.server.start() for c in self.centers.values()))
        await self.wait_leaves_connected()

    async def stop(self) -> None:
        """Close the buses opened through this object, then stop every server."""
        for bus in self._buses:
            await bus.close()
        self._buses.clear()
        for center in self.centers.values():
            await center.server.stop()
        await self.hub.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def hub_bus_config(self, **overrides: Any) -> NatsBusConfig:
        """The ``bus`` config a hub process would use (its stream sources every leaf's domain)."""
        values: dict[str, Any] = {
            "type": "nats",
            "servers": [self.hub.client_url],
            "name": "hub",
            "user": HUB_USER,
            "password": self.hub_config.users[HUB_USER],
            "manage_streams": "hub",
            "leaf_domains": [c.domain for c in self.centers.values()],
            "share_agencies": list(self.agencies),
            "first_connect_wait_s": 10.0,
        }
        return NatsBusConfig.model_validate({**values, **overrides})

    def edge_bus_config(self, center_id: str, **overrides: Any) -> NatsBusConfig:
        """The ``bus`` config of a center's edge process (its local leaf node)."""
        center = self.centers[center_id]
        values: dict[str, Any] = {
            "type": "nats",
            "servers": [center.server.client_url],
            "name": f"edge-{center_id}",
            "user": EDGE_LOCAL_USER,
            "password": center.config.users[EDGE_LOCAL_USER],
            "manage_streams": "edge",
            "hub_domain": NATIONAL_DOMAIN,
            "center_id": center_id,
            "first_connect_wait_s": 10.0,
        }
        return NatsBusConfig.model_validate({**values, **overrides})

    def agency_bus_config(self, agency: str, **overrides: Any) -> NatsBusConfig:
        """An agency liaison's client config (own inbox prefix, no stream management)."""
        values: dict[str, Any] = {
            "type": "nats",
            "servers": [self.hub.client_url],
            "name": agency,
            "user": agency,
            "password": self.hub_config.users[agency],
            "inbox_prefix": agency_inbox(agency),
            "manage_streams": "none",
            "first_connect_wait_s": 10.0,
        }
        return NatsBusConfig.model_validate({**values, **overrides})

    async def connect_hub(self, **overrides: Any) -> NatsBus:
        """A hub-side bus (streams ensured); closed by :meth:`stop`."""
        return await self._track(self.hub_bus_config(**overrides))

    async def connect_edge(self, center_id: str, **overrides: Any) -> NatsBus:
        """An edge-side bus on the center's leaf (local streams ensured); closed by :meth:`stop`."""
        return await self._track(self.edge_bus_config(center_id, **overrides))

    async def connect_agency(self, agency: str, **overrides: Any) -> NatsBus:
        """An agency liaison's bus on the hub; closed by :meth:`stop`."""
        return await self._track(self.agency_bus_config(agency, **overrides))

    async def wait_leaves_connected(self, timeout_s: float = 20.0) -> None:
        """Wait until the hub reports a leaf connection from every center."""
        deadline = time.monotonic() + timeout_s
        want = len(self.centers)
        have = 0
        while time.monotonic() < deadline:
            have = await asyncio.to_thread(_leaf_count, f"{self.hub.monitor_url}/leafz")
            if have >= want:
                return
            await asyncio.sleep(0.1)
        raise BusError(f"only {have} of {want} leaf nodes connected to the hub after {timeout_s:.0f} s")

    async def _track(self, config: NatsBusConfig) -> NatsBus:
        bus = await build_bus(config)
        if not isinstance(bus, NatsBus):  # pragma: no cover - a nats config builds a NatsBus
            raise BusError("expected a NatsBus")
        self._buses.append(bus)
        return bus


def build_topology(
    base_dir: Path,
    *,
    centers: Sequence[str],
    agencies: Sequence[str] = AGENCIES,
    own_subject_only: bool = False,
) -> Topology:
    """Write hub and leaf configs under ``base_dir`` on free loopback ports; servers not started.

    ``own_subject_only`` restricts each leaf's edge user to its center's subjects as deployed
    configs do; off by default because load drills publish many simulated centers through one leaf.
    """
    if not centers:
        raise BusError("a topology needs at least one center")
    store = SecretStore(base_dir / SECRETS_FILE, environ={})
    conf_dir = base_dir / "conf"
    hub_listen = Listen(LOOPBACK, free_port(), free_port(), free_port())
    hub_cfg = write_hub_config(
        conf_dir,
        role="national",
        hub_id="hq",
        store_dir=base_dir / "hub-js",
        store=store,
        leaves=list(centers),
        agencies=agencies,
        listen=hub_listen,
        max_file_store="1G",
    )
    hub = NatsServerProcess(
        hub_cfg.config_path, name="hub", port=hub_listen.port, monitor_port=hub_listen.http_port
    )
    nodes: dict[str, CenterNode] = {}
    for center_id in centers:
        listen = Listen(LOOPBACK, free_port(), free_port())
        cfg = write_leaf_config(
            conf_dir,
            center_id=center_id,
            store_dir=base_dir / f"leaf-{center_id}-js",
            uplink_urls=[f"nats-leaf://{LOOPBACK}:{hub_listen.leaf_port}"],
            store=store,
            listen=listen,
            max_file_store="1G",
            own_subject_only=own_subject_only,
        )
        server = NatsServerProcess(
            cfg.config_path, name=f"leaf-{center_id}", port=listen.port, monitor_port=listen.http_port
        )
        nodes[center_id] = CenterNode(center_id, server, cfg)
    return Topology(base_dir, hub, hub_cfg, nodes, store, tuple(agencies))


def _leaf_count(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            data = json.loads(resp.read())
    except (OSError, ValueError):
        return 0
    return int(data.get("leafnodes", 0))


def leaf_link_bytes(monitor_url: str) -> int:
    """Message bytes in and out over every leaf connection of the server at ``monitor_url``.

    Read from ``/leafz``: on a center's leaf node that is its uplink to the hub, so a test can
    assert what crossed the link (e.g. no live video while nobody watches).
    """
    with urllib.request.urlopen(f"{monitor_url}/leafz", timeout=2.0) as resp:
        data = json.loads(resp.read())
    return sum(int(leaf.get("in_bytes", 0)) + int(leaf.get("out_bytes", 0)) for leaf in data.get("leafs", []))


def client_in_bytes(monitor_url: str, name: str) -> int:
    """Bytes the server at ``monitor_url`` received from its client connections named ``name``.

    Read from ``/connz``: on a center's leaf node, what the edge process published (events, clips,
    live video); unlike the leaf link it carries none of the hub's JetStream control traffic.
    """
    with urllib.request.urlopen(f"{monitor_url}/connz?limit=1024", timeout=2.0) as resp:
        data = json.loads(resp.read())
    return sum(int(c.get("in_bytes", 0)) for c in data.get("connections", []) if c.get("name") == name)
