"""Transport security with real servers on loopback: HTTPS API, mutual TLS on NATS clients and leaf links.

Certificates come from ``hwarang certs`` (a site CA made in the test). A center's leaf node links
to the hub's nats-server over mutual TLS; its edge publishes over mutual TLS; a real ``hwarang hub``
process reads the hub server over mutual TLS and serves its API over HTTPS only (with HSTS), where
the event is read back. A client without a certificate, or with one from another CA, is refused.
"""

import asyncio
import os
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hwarang.bus import BusError, event_subject
from hwarang.bus.config import NatsBusConfig, build_bus
from hwarang.bus.natsconfig import (
    EDGE_LOCAL_USER,
    HUB_USER,
    Listen,
    SecretStore,
    TlsFiles,
    center_domain,
    write_hub_config,
    write_leaf_config,
)
from hwarang.bus.server import LOOPBACK, NatsServerProcess, free_port
from hwarang.runtime.certs import IssuedCert, issue, make_ca
from tests.hub_support import make_message

pytestmark = pytest.mark.integration

CENTER = "seoul-jung"
ADMIN_PASSWORD = "tls-test-admin-pw"


class Site:
    """CA, certificates and the two nats-servers (hub, center leaf) with TLS on."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.ca_dir = tmp_path / "ca"
        make_ca(self.ca_dir, org="TLS test")
        self.ca = self.ca_dir / "ca.crt"
        self.server = issue(self.ca_dir, "nats", hosts=[LOOPBACK, "localhost"])
        self.api = issue(self.ca_dir, "hub-api", hosts=[LOOPBACK, "localhost"], client=False)
        self.edge = issue(self.ca_dir, "edge", server=False)
        self.hub_client = issue(self.ca_dir, "hub-client", server=False)
        tls = TlsFiles(self.server.cert, self.server.key, self.ca)
        store = SecretStore(tmp_path / "secrets.json", environ={})
        hub_listen = Listen(LOOPBACK, free_port(), free_port(), free_port())
        leaf_listen = Listen(LOOPBACK, free_port(), free_port())
        self.hub_cfg = write_hub_config(
            tmp_path / "conf",
            role="national",
            hub_id="hq",
            store_dir=tmp_path / "hub-js",
            store=store,
            leaves=[CENTER],
            agencies=[],
            listen=hub_listen,
            max_file_store="1G",
            tls=tls,
        )
        self.leaf_cfg = write_leaf_config(
            tmp_path / "conf",
            center_id=CENTER,
            store_dir=tmp_path / "leaf-js",
            store=store,
            uplink_urls=[f"nats-leaf://{LOOPBACK}:{hub_listen.leaf_port}"],
            listen=leaf_listen,
            max_file_store="1G",
            tls=tls,
        )
        self.hub = NatsServerProcess(
            self.hub_cfg.config_path, name="hub", port=hub_listen.port, monitor_port=hub_listen.http_port
        )
        self.leaf = NatsServerProcess(
            self.leaf_cfg.config_path, name="leaf", port=leaf_listen.port, monitor_port=leaf_listen.http_port
        )

    def bus(
        self, server: NatsServerProcess, user: str, password: str, cert: IssuedCert | None, **values: Any
    ) -> NatsBusConfig:
        files = {} if cert is None else {"tls_cert_file": str(cert.cert), "tls_key_file": str(cert.key)}
        return NatsBusConfig.model_validate(
            {
                "type": "nats",
                "servers": [f"tls://{LOOPBACK}:{server.port}"],
                "user": user,
                "password": password,
                "tls_ca_file": str(self.ca),
                "first_connect_wait_s": 3.0,
                "connect_timeout_s": 2.0,
                **files,
                **values,
            }
        )


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    s = Site(tmp_path)
    await s.hub.start()
    await s.leaf.start()
    try:
        yield s
    finally:
        await s.leaf.stop()
        await s.hub.stop()


def _hub_site_file(site: Site, port: int) -> Path:
    bus = site.bus(
        site.hub,
        HUB_USER,
        site.hub_cfg.users[HUB_USER],
        site.hub_client,
        manage_streams="hub",
        leaf_domains=[center_domain(CENTER)],
        share_agencies=[],
        first_connect_wait_s=15.0,
    )
    section = bus.model_dump(mode="json", exclude_none=True)
    section["password"] = site.hub_cfg.users[HUB_USER]
    doc = {
        "site_name": "tls-test",
        "bus": section,
        "hub": {"data_dir": str(site.tmp / "hub-data"), "fusion": {"enabled": False}},
        "api": {
            "host": LOOPBACK,
            "port": port,
            "tls_cert_file": str(site.api.cert),
            "tls_key_file": str(site.api.key),
        },
    }
    path = site.tmp / "hub.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _start_hub(config: Path, log_path: Path) -> "subprocess.Popen[bytes]":
    """``hwarang hub --config`` as a child process (SIGTERM stops it gracefully)."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "hwarang", "hub", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "HWARANG_ADMIN_PASSWORD": ADMIN_PASSWORD},
        )


def _stop_hub(proc: "subprocess.Popen[bytes]") -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


async def _poll_events(client: httpx.AsyncClient, token: str, want: str, timeout_s: float) -> list[str]:
    ids: list[str] = []
    for _ in range(int(timeout_s / 0.25)):  # bounded in count and time
        response = await client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        ids = [e["id"] for e in response.json()]
        if want in ids:
            break
        await asyncio.sleep(0.25)
    return ids


async def test_https_api_and_mutual_tls_leaf_link_carry_an_event(site: Site) -> None:
    edge = await build_bus(
        site.bus(
            site.leaf,
            EDGE_LOCAL_USER,
            site.leaf_cfg.users[EDGE_LOCAL_USER],
            site.edge,
            manage_streams="edge",
            center_id=CENTER,
        )
    )
    message = make_message(track_id=7)
    e = message.event
    await edge.publish(
        event_subject(e.sido_code, e.sigungu_code, e.center_id),
        message.model_dump_json().encode(),
        msg_id=str(e.id),
    )
    await edge.close()

    port = free_port()
    proc = _start_hub(_hub_site_file(site, port), site.tmp / "hub.log")
    trust = ssl.create_default_context(cafile=str(site.ca))
    try:
        async with httpx.AsyncClient(
            base_url=f"https://{LOOPBACK}:{port}", verify=trust, timeout=5.0
        ) as client:
            health = None
            deadline = time.monotonic() + 60.0
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    health = await client.get("/api/v1/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            assert health is not None, (site.tmp / "hub.log").read_text()[-3000:]
            assert health.status_code == 200
            assert health.headers["strict-transport-security"].startswith("max-age=")
            login = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
            )
            token = login.json()["access_token"]
            ids = await _poll_events(client, token, str(e.id), timeout_s=30.0)
            assert str(e.id) in ids, (site.tmp / "hub.log").read_text()[-3000:]
        # Plain HTTP to the HTTPS port gets no answer; a client not trusting the site CA refuses the server.
        async with httpx.AsyncClient(timeout=5.0) as plain:
            with pytest.raises(httpx.HTTPError):
                await plain.get(f"http://{LOOPBACK}:{port}/api/v1/health")
            with pytest.raises(httpx.ConnectError):
                await plain.get(f"https://{LOOPBACK}:{port}/api/v1/health")
    finally:
        await asyncio.to_thread(_stop_hub, proc)


async def test_client_without_valid_certificate_is_refused(site: Site, tmp_path: Path) -> None:
    password = site.hub_cfg.users[HUB_USER]
    with pytest.raises(BusError):
        await build_bus(site.bus(site.hub, HUB_USER, password, None, manage_streams="none"))
    make_ca(tmp_path / "rogue", org="Rogue")
    rogue = issue(tmp_path / "rogue", "rogue", server=False)
    with pytest.raises(BusError):
        await build_bus(site.bus(site.hub, HUB_USER, password, rogue, manage_streams="none"))
    # The same user with the site's certificate gets in: the refusals above were the certificates.
    bus = await build_bus(site.bus(site.hub, HUB_USER, password, site.hub_client, manage_streams="none"))
    await bus.close()
