"""The edge's command consumer on the in-memory bus: rules swapped in a running camera, stale
versions ignored, bad ones refused with the reason, other changes restart only that camera."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from math import cos, pi, sin
from typing import Any

import pytest

from hwarang.bus.memory import MemoryBus
from hwarang.bus.subjects import ACKS_ALL, command_subject, picture_subject
from hwarang.domain import (
    CAMERA_CONFIG_COMMAND,
    CAMERA_PICTURE_COMMAND,
    AckStatus,
    AdminLocation,
    CameraConfigCommand,
    CameraPicture,
    CommandAck,
    EventMessage,
    PictureRequest,
)
from hwarang.edge.commands import CommandConsumer, consuming_commands
from hwarang.edge.config import EdgeConfig
from hwarang.edge.node import EdgeNode

pytestmark = pytest.mark.timeout(60)

CENTER = "goseong-cc"
CAMERA = "syn-1"
WHOLE_FRAME = [[0, 0], [960, 0], [960, 540], [0, 540]]


def _camera(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": CAMERA,
        "name": "synthetic",
        "position": {"lat": 38.38, "lon": 128.47},
        "sido_code": "51",
        "sigungu_code": "51820",
        "source": {"type": "synthetic", "width": 960, "height": 540, "fps": 10, "seed": 1, "figures": 3},
        "detector": {"type": "motion"},
        "rules": [],
    }
    data.update(changes)
    return data


def _no_lookup(_lat: float, _lon: float) -> AdminLocation | None:
    return None


class _Events:
    def __init__(self) -> None:
        self.messages: list[EventMessage] = []

    def __call__(self, message: EventMessage) -> None:
        self.messages.append(message)

    def rules(self) -> set[str]:
        return {m.event.rule_name for m in list(self.messages)}


@pytest.fixture
async def running() -> AsyncIterator[tuple[MemoryBus, EdgeNode, _Events, CommandConsumer]]:
    config = EdgeConfig.model_validate(
        {
            "analytics_workers": 1,
            "centers": [
                {
                    "id": CENTER,
                    "name": "c",
                    "sido_code": "51",
                    "sigungu_code": "51820",
                    "cameras": [_camera()],
                }
            ],
        }
    )
    events = _Events()
    bus = MemoryBus()
    node = EdgeNode(config, events, _no_lookup)
    node.start()
    try:
        async with consuming_commands(bus, node, [CENTER]) as consumer:
            yield bus, node, events, consumer
    finally:
        await asyncio.to_thread(node.stop)
        await bus.close()


async def _send(
    bus: MemoryBus, version: int, config: dict[str, Any], *, claimed_center: str = CENTER
) -> uuid.UUID:
    command = CameraConfigCommand(
        command_id=uuid.uuid4(),
        center_id=claimed_center,
        camera_id=str(config.get("id", CAMERA)),
        version=version,
        config=config,
        issued_by="admin",
        issued_at=datetime.now(UTC),
    )
    await bus.publish(command_subject(CENTER, CAMERA_CONFIG_COMMAND), command.model_dump_json().encode())
    return command.command_id


async def _answer(bus: MemoryBus, command_id: uuid.UUID, timeout_s: float = 10.0) -> CommandAck:
    subscription = await bus.subscribe(ACKS_ALL, durable=f"test-{command_id}")
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        for delivery in await subscription.fetch(timeout_s=0.5):
            await delivery.ack()
            ack = CommandAck.model_validate_json(delivery.data)
            if ack.command_id == command_id:
                return ack
    raise AssertionError(f"no answer to {command_id} within {timeout_s} s")


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_new_rule_runs_in_the_running_camera_without_restart(running: Any) -> None:
    bus, node, events, _ = running
    await _until(lambda: node.health()[0].frames_processed > 5)
    worker_before = node._workers[0]
    frames_before = node.health()[0].frames_in

    rule = {"type": "zone_intrusion", "name": "drawn-zone", "polygon": WHOLE_FRAME, "min_dwell_s": 0.2}
    ack = await _answer(bus, await _send(bus, 1, _camera(rules=[rule])))

    assert (ack.status, ack.how) == (AckStatus.APPLIED, "rules")
    await _until(lambda: "drawn-zone" in events.rules())
    health = node.health()[0]
    assert node._workers[0] is worker_before
    assert health.frames_in > frames_before  # counters not reset: the same worker kept running
    assert (health.config_version, health.rules) == (1, 1)


async def test_stale_and_invalid_versions_are_answered_and_change_nothing(running: Any) -> None:
    bus, node, _, consumer = running
    assert (await _answer(bus, await _send(bus, 2, _camera()))).status == AckStatus.APPLIED
    stale = await _answer(bus, await _send(bus, 1, _camera(name="older")))
    assert stale.status == AckStatus.STALE

    ring = [[480 + 200 * cos(2 * pi * k / 257), 270 + 200 * sin(2 * pi * k / 257)] for k in range(257)]
    bad_rule = {"type": "zone_intrusion", "name": "huge", "polygon": ring}  # 257 points: one too many
    refused = await _answer(bus, await _send(bus, 3, _camera(rules=[bad_rule])))
    assert refused.status == AckStatus.REFUSED
    assert refused.reason is not None and "rules.0.zone_intrusion.polygon" in refused.reason
    assert node.health()[0].config_version == 2
    assert consumer.stats.as_dict() == {"applied": 1, "refused": 1, "stale": 1, "malformed": 0}


async def test_a_command_naming_another_center_is_refused(running: Any) -> None:
    bus, node, _, _ = running
    wrong = await _answer(bus, await _send(bus, 1, _camera(name="moved"), claimed_center="other-cc"))
    assert wrong.status == AckStatus.REFUSED
    assert node.health()[0].config_version is None


async def test_source_change_restarts_that_camera_and_new_camera_starts(running: Any) -> None:
    bus, node, _, _ = running
    before = node._workers[0]
    changed = _camera(source={"type": "synthetic", "width": 640, "height": 360, "fps": 10, "seed": 2})
    restart = await _answer(bus, await _send(bus, 1, changed))
    assert (restart.status, restart.how) == (AckStatus.APPLIED, "restart")
    assert node._workers[0] is not before

    added = await _answer(bus, await _send(bus, 1, _camera(id="syn-2", name="second")))
    assert (added.status, added.how) == (AckStatus.APPLIED, "started")
    await _until(lambda: any(h.camera_id == "syn-2" and h.frames_processed > 0 for h in node.health()))
    assert {c.id for c in node.cameras} == {CAMERA, "syn-2"}


async def test_the_hub_may_not_point_a_camera_at_a_local_file(running: Any) -> None:
    bus, node, _, consumer = running
    before = node._workers[0]
    for source in (
        {"type": "file", "path": "/etc/hostname"},
        {"type": "overlay", "base": {"type": "file", "path": "/etc/hostname"}},
    ):
        refused = await _answer(bus, await _send(bus, 1, _camera(id="peek", name="peek", source=source)))
        assert refused.status == AckStatus.REFUSED
        assert refused.reason is not None and "local files" in refused.reason
    moved = await _answer(bus, await _send(bus, 1, _camera(source={"type": "file", "path": "/etc/hostname"})))
    assert moved.status == AckStatus.REFUSED
    assert node._workers == [before] and {c.id for c in node.cameras} == {CAMERA}
    assert consumer.stats.refused == 3


async def test_a_picture_request_is_answered_with_the_current_frame(running: Any) -> None:
    bus, node, _, _ = running
    await _until(lambda: node.health()[0].frames_processed > 0)
    request = PictureRequest(
        command_id=uuid.uuid4(), center_id=CENTER, camera_id=CAMERA, issued_at=datetime.now(UTC)
    )
    pictures = await bus.subscribe(picture_subject(CENTER), durable="test-pictures")
    await bus.publish(command_subject(CENTER, CAMERA_PICTURE_COMMAND), request.model_dump_json().encode())

    deliveries = []
    for _ in range(20):  # bounded: 10 s
        deliveries = await pictures.fetch(timeout_s=0.5)
        if deliveries:
            break
    picture = CameraPicture.model_validate_json(deliveries[0].data)

    assert (picture.command_id, picture.width, picture.height) == (request.command_id, 960, 540)
    assert picture.jpeg is not None and picture.jpeg[:2] == b"\xff\xd8"
