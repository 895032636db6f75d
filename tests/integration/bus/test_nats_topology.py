"""Generated configs on real servers: agency permissions, leaf-node store-and-forward, commands."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from hwarang.bus import BusError
from hwarang.bus.base import Delivery
from hwarang.bus.config import COMMANDS_STREAM, EVENTS_STREAM
from hwarang.bus.healer import SourceHealer
from hwarang.bus.nats import NatsBus
from hwarang.bus.natsconfig import agency_inbox
from hwarang.bus.subjects import ACKS_ALL, ack_subject, command_subject, event_subject, share_subject
from hwarang.bus.topology import Topology, build_topology

pytestmark = pytest.mark.integration

CENTERS = ["seoul-cc", "busan-cc"]
SIDO = {"seoul-cc": ("11", "11140"), "busan-cc": ("26", "26470")}


@pytest.fixture
async def topo(tmp_path: Path) -> AsyncIterator[Topology]:
    topology = build_topology(tmp_path, centers=CENTERS)
    await topology.start()
    try:
        yield topology
    finally:
        await topology.stop()


async def _core_client(topo: Topology, agency: str, errors: list[str]) -> NatsClient:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    return await nats.connect(
        topo.hub.client_url,
        user=agency,
        password=topo.hub_config.users[agency],
        inbox_prefix=agency_inbox(agency),
        error_cb=on_error,
        allow_reconnect=False,
    )


async def _wait_for(predicate_errors: list[str], text: str, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(text in e.lower() for e in predicate_errors):
            return True
        await asyncio.sleep(0.05)
    return False


async def _publish_until_received(
    hub: NatsBus, sub: Subscription, subject: str, data: bytes, attempts: int = 5
) -> Msg | None:
    """Publish until the core subscriber sees it: on a loaded 2-core runner one delivery may lag past 3 s."""
    for _ in range(attempts):
        await hub.publish(subject, data)
        try:
            return await sub.next_msg(timeout=3.0)
        except nats.errors.TimeoutError:
            continue
    return None


async def test_police_cannot_read_military_subjects_and_military_can(topo: Topology) -> None:
    hub = await topo.connect_hub()
    police_errors: list[str] = []
    police = await _core_client(topo, "police", police_errors)
    military_errors: list[str] = []
    military = await _core_client(topo, "military", military_errors)
    try:
        await police.subscribe("hwarang.share.military.>")
        await police.flush()
        assert await _wait_for(police_errors, "permissions violation for subscription")
        assert any("hwarang.share.military.>" in e for e in police_errors)

        mil_sub = await military.subscribe("hwarang.share.military.>")
        await military.flush()
        msg = await _publish_until_received(
            hub, mil_sub, share_subject("military", "incident"), b"for the army"
        )
        assert msg is not None, (
            f"military never got its share; connected={military.is_connected} {military_errors}"
        )
        assert msg.data == b"for the army" and military_errors == []
        await military.subscribe("hwarang.share.police.>")
        await military.flush()
        assert await _wait_for(military_errors, "permissions violation for subscription")
    finally:
        await police.close()
        await military.close()


async def test_agency_stream_access_is_limited_to_its_own_share(topo: Topology) -> None:
    hub = await topo.connect_hub()
    await hub.publish(share_subject("military", "incident"), b"m1", msg_id="m1")
    await hub.publish(share_subject("police", "incident"), b"p1", msg_id="p1")
    police = await topo.connect_agency("police", api_timeout_s=1.0)
    with pytest.raises(BusError, match=r"(?i)permissions violation|timeout|timed out"):
        await police.subscribe("hwarang.share.military.>", durable="police-reads-military")
    own = await police.subscribe("hwarang.share.police.>", durable="police")
    assert [d.data for d in await own.fetch(10, 2.0)] == [b"p1"]
    assert any("permissions violation" in e.lower() for e in police.errors)
    military = await topo.connect_agency("military")
    sub = await military.subscribe("hwarang.share.military.>", durable="military")
    assert [d.data for d in await sub.fetch(10, 2.0)] == [b"m1"]


async def _drain(hub_sub: object, want: int, timeout_s: float) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout_s
    fetch = hub_sub.fetch  # type: ignore[attr-defined]
    while len(seen) < want and time.monotonic() < deadline:
        try:
            batch = await fetch(100, 0.5)
        except BusError:
            await asyncio.sleep(0.1)
            continue
        for delivery in batch:
            seen.append((delivery.subject, delivery.msg_id or ""))
            await delivery.ack()
    return seen


async def test_leaf_stores_and_forwards_while_the_hub_is_down(topo: Topology) -> None:
    edges = {c: await topo.connect_edge(c) for c in CENTERS}
    hub = await topo.connect_hub()
    stop = asyncio.Event()
    healer = SourceHealer(hub, EVENTS_STREAM, interval_s=0.5)
    healer_task = asyncio.create_task(healer.run(stop))
    subjects = {c: event_subject(*SIDO[c], c) for c in CENTERS}
    try:
        for i in range(50):
            await edges["seoul-cc"].publish(subjects["seoul-cc"], b"x", msg_id=f"seoul-{i:03d}")
        await topo.hub.stop()  # the uplink is cut: edges keep publishing into their leaf
        for i in range(50, 180):
            await edges["seoul-cc"].publish(subjects["seoul-cc"], b"x", msg_id=f"seoul-{i:03d}")
        for i in range(20):
            await edges["busan-cc"].publish(subjects["busan-cc"], b"x", msg_id=f"busan-{i:03d}")
        assert (await edges["seoul-cc"].stream_state(EVENTS_STREAM))[0] == 180
        await topo.hub.start()
        await topo.wait_leaves_connected()
        sub = await hub.subscribe("hwarang.events.>", durable="hub-ingest")
        seen = await _drain(sub, 200, 30.0)
        ids = [mid for _, mid in seen]
        assert len(ids) == 200 and len(set(ids)) == 200
        assert [m for m in ids if m.startswith("seoul")] == [f"seoul-{i:03d}" for i in range(180)]
        assert [m for m in ids if m.startswith("busan")] == [f"busan-{i:03d}" for i in range(20)]
        assert (await hub.stream_state(EVENTS_STREAM))[0] == 200
        assert await sub.fetch(10, 0.5) == []
        assert healer.restarts >= 1
    finally:
        stop.set()
        await healer_task


async def test_commands_reach_the_edge_through_its_leaf(topo: Topology) -> None:
    hub = await topo.connect_hub()
    edge = await topo.connect_edge("seoul-cc")
    await hub.publish(command_subject("seoul-cc", "snapshot"), b"cam-1", msg_id="c1")
    await hub.publish(command_subject("busan-cc", "snapshot"), b"cam-9", msg_id="c2")
    sub = await edge.subscribe("hwarang.commands.seoul-cc.>", durable="edge-commands")
    deliveries = await sub.fetch(10, 5.0)
    assert [(d.subject, d.data) for d in deliveries] == [("hwarang.commands.seoul-cc.snapshot", b"cam-1")]
    assert (await edge.stream_state(COMMANDS_STREAM))[0] == 1


async def test_the_edges_answers_reach_the_hub_through_its_leaf(topo: Topology) -> None:
    hub = await topo.connect_hub()
    edge = await topo.connect_edge("seoul-cc")
    await edge.publish(ack_subject("seoul-cc"), b"applied", msg_id="a1")
    answers = await hub.subscribe(ACKS_ALL, durable="hub-acks")
    deliveries: list[Delivery] = []
    for _ in range(60):  # bounded (30 s): the hub's stream sources the leaf's, slow on a loaded machine
        deliveries += await answers.fetch(10, 0.5)
        if deliveries:
            break
    assert [(d.subject, d.data) for d in deliveries] == [("hwarang.acks.seoul-cc", b"applied")]
