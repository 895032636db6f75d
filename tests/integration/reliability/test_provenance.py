"""Provenance end to end on real nats-servers: center leaf -> regional hub -> national hub.

The edge publishes on its own leaf node; the regional hub's events stream sources the leaf, the
national hub's sources the region. Only the national hub ingests (SQLite), with both centers
registered: a correctly signed event is stored there although it never saw it published; a forged
center, a replayed event with a changed field, a signed event on another center's subject and an
unsigned event are each dead-lettered with their reason and never stored.
"""

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwarang.bus import Bus, BusError, event_subject
from hwarang.bus.config import NatsBusConfig, build_bus
from hwarang.bus.deadletter import ERROR_HEADER
from hwarang.bus.natsconfig import (
    EDGE_LOCAL_USER,
    HUB_USER,
    Listen,
    SecretStore,
    center_domain,
    region_domain,
    write_hub_config,
    write_leaf_config,
)
from hwarang.bus.server import LOOPBACK, NatsServerProcess, free_port
from hwarang.bus.subjects import DEAD_LETTER_ALL
from hwarang.domain import EventMessage
from hwarang.edge.signing import EventSigner, public_key_text
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from hwarang.hub.sharing.provenance import ProvenanceConfig, ProvenanceVerifier, RegisteredCenter
from hwarang.hub.store.db import Database
from tests.hub_support import FAST_HASHER, make_message

pytestmark = pytest.mark.integration

SEOUL, BUSAN = "seoul-jung", "busan-cc"  # make_message's events: center seoul-jung, 11/11140


@dataclass
class Chain:
    leaf: NatsServerProcess
    regional: NatsServerProcess
    national: NatsServerProcess
    leaf_pw: str
    regional_hub_pw: str
    national_hub_pw: str


def _leafnodes(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return int(json.loads(resp.read()).get("leafnodes", 0))
    except (OSError, ValueError):
        return 0


async def _wait_leaf(server: NatsServerProcess, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_leafnodes, f"{server.monitor_url}/leafz") >= 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no leaf node connected to {server.name} in {timeout_s:.0f} s")


@pytest.fixture
async def chain(tmp_path: Path) -> AsyncIterator[Chain]:
    store = SecretStore(tmp_path / "secrets.json", environ={})
    conf = tmp_path / "conf"
    n_listen = Listen(LOOPBACK, free_port(), free_port(), free_port())
    r_listen = Listen(LOOPBACK, free_port(), free_port(), free_port())
    l_listen = Listen(LOOPBACK, free_port(), free_port())
    n_cfg = write_hub_config(
        conf,
        role="national",
        hub_id="hq",
        store_dir=tmp_path / "n-js",
        store=store,
        leaves=["r1"],
        listen=n_listen,
        max_file_store="1G",
    )
    r_cfg = write_hub_config(
        conf,
        role="regional",
        hub_id="r1",
        store_dir=tmp_path / "r-js",
        store=store,
        leaves=[SEOUL],
        uplink_urls=[f"nats-leaf://{LOOPBACK}:{n_listen.leaf_port}"],
        listen=r_listen,
        max_file_store="1G",
    )
    l_cfg = write_leaf_config(
        conf,
        center_id=SEOUL,
        store_dir=tmp_path / "l-js",
        store=store,
        uplink_urls=[f"nats-leaf://{LOOPBACK}:{r_listen.leaf_port}"],
        listen=l_listen,
        max_file_store="1G",
        own_subject_only=False,  # a compromised leaf: the hubs must not rely on its permissions
    )
    servers = [
        NatsServerProcess(
            n_cfg.config_path, name="national", port=n_listen.port, monitor_port=n_listen.http_port
        ),
        NatsServerProcess(
            r_cfg.config_path, name="regional", port=r_listen.port, monitor_port=r_listen.http_port
        ),
        NatsServerProcess(
            l_cfg.config_path, name="leaf", port=l_listen.port, monitor_port=l_listen.http_port
        ),
    ]
    try:
        for server in servers:
            await server.start()
        await _wait_leaf(servers[0])
        await _wait_leaf(servers[1])
        yield Chain(
            servers[2],
            servers[1],
            servers[0],
            l_cfg.users[EDGE_LOCAL_USER],
            r_cfg.users[HUB_USER],
            n_cfg.users[HUB_USER],
        )
    finally:
        for server in reversed(servers):
            await server.stop()


def _config(server: NatsServerProcess, user: str, password: str, **values: object) -> NatsBusConfig:
    return NatsBusConfig.model_validate(
        {
            "type": "nats",
            "servers": [server.client_url],
            "user": user,
            "password": password,
            "first_connect_wait_s": 10.0,
            "api_timeout_s": 5.0,
            **values,
        }
    )


def _registration(seoul: Ed25519PrivateKey, busan: Ed25519PrivateKey) -> ProvenanceConfig:
    return ProvenanceConfig(
        centers=[
            RegisteredCenter(
                id=SEOUL, public_key=public_key_text(seoul), sido_code="11", sigungu_code="11140"
            ),
            RegisteredCenter(
                id=BUSAN, public_key=public_key_text(busan), sido_code="26", sigungu_code="26110"
            ),
        ]
    )


def _subject(message: EventMessage) -> str:
    e = message.event
    return event_subject(e.sido_code, e.sigungu_code, e.center_id)


async def _dead_letters(bus: Bus, want: int, timeout_s: float = 30.0) -> list[str]:
    sub = await bus.subscribe(DEAD_LETTER_ALL, durable="test-dead-letters")
    reasons: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(reasons) < want and time.monotonic() < deadline:
        for delivery in await sub.fetch(batch=16, timeout_s=1.0):
            reasons.append(delivery.headers.get(ERROR_HEADER, ""))
            await delivery.ack()
    await sub.close()
    return reasons


async def test_signed_event_verifies_at_national_hub_and_forgeries_are_dead_lettered(
    chain: Chain, tmp_path: Path
) -> None:
    seoul_key, busan_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    seoul = EventSigner(SEOUL, seoul_key)
    database = Database(f"sqlite:///{tmp_path / 'national.db'}")
    database.migrate()
    service = HubService(database, EvidenceStore(tmp_path / "evidence"), password_hasher=FAST_HASHER)
    verifier = ProvenanceVerifier.from_config(_registration(seoul_key, busan_key))
    assert verifier is not None

    edge = await build_bus(
        _config(chain.leaf, EDGE_LOCAL_USER, chain.leaf_pw, manage_streams="edge", center_id=SEOUL)
    )
    regional = await build_bus(
        _config(
            chain.regional,
            HUB_USER,
            chain.regional_hub_pw,
            manage_streams="hub",
            leaf_domains=[center_domain(SEOUL)],
            share_agencies=[],
        )
    )
    national = await build_bus(
        _config(
            chain.national,
            HUB_USER,
            chain.national_hub_pw,
            manage_streams="hub",
            leaf_domains=[region_domain("r1")],
            share_agencies=[],
        )
    )
    worker = IngestWorker(national, service.ingest, provenance=verifier.reason)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        good = seoul.sign(make_message(track_id=1))
        # A center forging another: Seoul's key signing an event that claims Busan.
        busan_event = make_message(track_id=2, center_id=BUSAN, sido_code="26", sigungu_code="26110")
        forged = busan_event.model_copy(
            update={
                "signature": seoul.sign(make_message(track_id=2)).signature.model_copy(  # type: ignore[union-attr]
                    update={"center_id": BUSAN}
                )
            }
        )
        # A replay of the good event with one field changed (same id, same signature).
        replay = json.loads(good.model_dump_json())
        replay["event"]["confidence"] = 0.11
        # A correctly signed Seoul event on Busan's subject.
        moved = seoul.sign(make_message(track_id=3))
        unsigned = make_message(track_id=4)

        await edge.publish(_subject(good), good.model_dump_json().encode(), msg_id=str(good.event.id))
        await edge.publish(_subject(forged), forged.model_dump_json().encode(), msg_id="forged")
        await edge.publish(_subject(good), json.dumps(replay).encode(), msg_id="replay")
        await edge.publish(
            event_subject("26", "26110", BUSAN), moved.model_dump_json().encode(), msg_id="moved"
        )
        await edge.publish(_subject(unsigned), unsigned.model_dump_json().encode(), msg_id="unsigned")

        reasons = await _dead_letters(national, 4)
        for _ in range(300):  # bounded: up to 30 s for the good event to be stored
            if worker.stats.ingested >= 1:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15.0)
        for bus in (edge, regional, national):
            await bus.close()

    assert worker.stats.ingested == 1, worker.stats
    stored = service.incidents.events(limit=50)
    assert [e.id for e in stored] == [good.event.id]
    assert stored[0].confidence == good.event.confidence
    assert len(reasons) == 4, reasons
    assert all(r.startswith("provenance: ") for r in reasons), reasons
    joined = "\n".join(reasons)
    assert f"bad signature for center {BUSAN}" in joined  # forged center
    assert f"bad signature for center {SEOUL}" in joined  # replay with a changed field
    assert f"is not center {SEOUL}'s subject hwarang.events.11.11140.{SEOUL}" in joined  # wrong subject
    assert f"unsigned event (center {SEOUL})" in joined
    assert worker.stats.unproven == 4
    database.close()


async def test_a_centers_nats_user_publishes_only_on_its_own_subject(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets.json", environ={})
    listen = Listen(LOOPBACK, free_port(), free_port())
    cfg = write_leaf_config(
        tmp_path / "conf", center_id=SEOUL, store_dir=tmp_path / "js", store=store,
        uplink_urls=[f"nats-leaf://{LOOPBACK}:{free_port()}"], listen=listen, max_file_store="1G",
    )  # fmt: skip
    server = NatsServerProcess(cfg.config_path, name="leaf", port=listen.port, monitor_port=listen.http_port)
    async with server:
        edge = await build_bus(
            _config(server, EDGE_LOCAL_USER, cfg.users[EDGE_LOCAL_USER], manage_streams="edge",
                    center_id=SEOUL, api_timeout_s=2.0)
        )  # fmt: skip
        try:
            own = make_message(track_id=1)
            ack = await edge.publish(_subject(own), own.model_dump_json().encode(), msg_id="own")
            assert ack.seq == 1
            other = make_message(track_id=2, center_id=BUSAN, sido_code="26", sigungu_code="26110")
            with pytest.raises(BusError):
                await edge.publish(_subject(other), other.model_dump_json().encode(), msg_id="other")
        finally:
            await edge.close()
