"""The edge's command consumer: the hub's camera changes, applied while the edge runs.

Each center's commands arrive on ``hwarang.commands.<center>.>`` (a durable consumer, so commands
sent while the edge was away are read when it is back). A ``camera-config`` command carries a
version of one camera's configuration: new rules are swapped into the running camera between two
frames, any other change restarts that camera only, an unknown camera is started. A version at or
below the one applied is ignored (``stale``). Every command is answered on ``hwarang.acks.<center>``
(applied, refused with the reason, or stale).
"""

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from hwarang.bus import Bus, BusError
from hwarang.bus.base import Delivery, Subscription
from hwarang.bus.subjects import ack_subject, center_commands, picture_subject
from hwarang.domain import (
    CAMERA_CONFIG_COMMAND,
    CAMERA_PICTURE_COMMAND,
    AckStatus,
    CameraConfigCommand,
    CameraPicture,
    CommandAck,
    PictureRequest,
)
from hwarang.edge.config import CameraConfig
from hwarang.edge.errors import EdgeError
from hwarang.edge.node import Node

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 0.5
PICTURE_MAX_BYTES = 600_000
"""A picture larger than this is sent smaller (NATS' default payload limit is 1 MB)."""
PICTURE_STALE_S = 30.0
"""A picture request older than this is not answered (read again after an edge restart)."""


@dataclass(slots=True)
class CommandStats:
    """Commands handled since start."""

    applied: int = 0
    refused: int = 0
    stale: int = 0
    malformed: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters, for health."""
        return {
            "applied": self.applied,
            "refused": self.refused,
            "stale": self.stale,
            "malformed": self.malformed,
        }


def validation_summary(exc: ValidationError, limit: int = 3) -> str:
    """``field.path: message`` of the first errors, for a refusal's reason."""
    parts = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:limit]]
    return "; ".join(parts)


class CommandConsumer:
    """Applies the hub's commands for ``center_ids`` to ``node`` and answers each one."""

    def __init__(self, bus: Bus, node: Node, center_ids: list[str]) -> None:
        self._bus = bus
        self._node = node
        self._center_ids = center_ids
        self._versions: dict[str, int] = {}
        self.stats = CommandStats()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume every center's commands until ``stop`` is set."""
        await asyncio.gather(*(self._run_center(center, stop) for center in self._center_ids))

    async def _run_center(self, center_id: str, stop: asyncio.Event) -> None:
        subscription = await self._subscribe(center_id, stop)
        if subscription is None:
            return
        try:
            while not stop.is_set():
                try:
                    deliveries = await subscription.fetch(batch=16, timeout_s=FETCH_TIMEOUT_S)
                except BusError as exc:
                    logger.warning("center %s: reading commands failed: %s", center_id, exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
                    continue
                for delivery in deliveries:
                    await self.handle(center_id, delivery)
        finally:
            with contextlib.suppress(BusError):
                await subscription.close()

    async def _subscribe(self, center_id: str, stop: asyncio.Event) -> Subscription | None:
        """The center's command consumer; retried (1 s, doubling to 30 s) while the hub has not made
        the commands stream yet; None when stopped first."""
        delay = 1.0
        warned = False
        while not stop.is_set():
            try:
                return await self._bus.subscribe(
                    center_commands(center_id), durable=f"edge-commands-{center_id}", ack_wait_s=30.0
                )
            except BusError as exc:
                level = logging.DEBUG if warned else logging.WARNING
                logger.log(level, "center %s: cannot read commands yet (retrying): %s", center_id, exc)
                warned = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2.0, 30.0)
        return None

    async def handle(self, center_id: str, delivery: Delivery) -> CommandAck | None:
        """Apply one delivered command, publish its answer, ack it; the answer (None: malformed)."""
        name = delivery.subject.rsplit(".", 1)[-1]
        if name == CAMERA_PICTURE_COMMAND:
            await self._send_picture(center_id, delivery)
            return None
        try:
            command = CameraConfigCommand.model_validate_json(delivery.data)
        except ValidationError as exc:
            logger.warning("center %s: malformed command on %s: %s", center_id, delivery.subject, exc)
            self.stats.malformed += 1
            await delivery.term()
            return None
        if name != CAMERA_CONFIG_COMMAND:
            ack = _ack(command, AckStatus.REFUSED, f"unknown command {name!r}")
        elif command.center_id != center_id:
            ack = _ack(
                command, AckStatus.REFUSED, f"command for center {command.center_id!r} on {center_id!r}"
            )
        else:
            ack = await self._apply(command)
        try:
            await self._bus.publish(
                ack_subject(center_id), ack.model_dump_json().encode(), msg_id=f"ack-{ack.command_id}"
            )
        except BusError as exc:  # the command is redelivered; a version already applied answers 'stale'
            logger.warning("center %s: answer to command %s not sent: %s", center_id, command.command_id, exc)
            await delivery.nak(1.0)
            return ack
        await delivery.ack()
        return ack

    async def _send_picture(self, center_id: str, delivery: Delivery) -> None:
        """Answer a picture request with the camera's current frame (or the reason there is none)."""
        try:
            request = PictureRequest.model_validate_json(delivery.data)
        except ValidationError as exc:
            logger.warning("center %s: malformed picture request: %s", center_id, exc)
            await delivery.term()
            return
        age_s = (datetime.now(UTC) - request.issued_at).total_seconds()
        if request.center_id != center_id or age_s > PICTURE_STALE_S:
            await delivery.ack()
            return
        found = await asyncio.to_thread(_picture, self._node, request.camera_id)
        jpeg, width, height = found if found is not None else (None, 0, 0)
        answer = CameraPicture(
            command_id=request.command_id,
            center_id=center_id,
            camera_id=request.camera_id,
            jpeg=None if jpeg is None else base64.b64encode(jpeg),  # the field decodes what it is given
            width=width,
            height=height,
            reason=None if found is not None else "no frame yet (camera not running here)",
        )
        try:
            await self._bus.publish(picture_subject(center_id), answer.model_dump_json().encode())
        except BusError as exc:
            logger.warning("camera %s: picture not sent: %s", request.camera_id, exc)
        await delivery.ack()

    async def _apply(self, command: CameraConfigCommand) -> CommandAck:
        current = self._versions.get(command.camera_id, 0)
        if command.version <= current:
            self.stats.stale += 1
            return _ack(command, AckStatus.STALE, f"version {command.version} <= applied {current}")
        try:
            config = CameraConfig.model_validate(command.config)
            if config.id != command.camera_id:
                raise EdgeError(f"config is for camera {config.id!r}, not {command.camera_id!r}")
            applied = await asyncio.to_thread(
                self._node.apply_camera_config, command.center_id, config, command.version
            )
        except ValidationError as exc:
            return self._refuse(command, validation_summary(exc))
        except EdgeError as exc:
            return self._refuse(command, str(exc))
        self._versions[command.camera_id] = command.version
        self.stats.applied += 1
        logger.info(
            "camera %s: config version %d applied (%s) from %s",
            command.camera_id,
            command.version,
            applied.how,
            command.issued_by,
        )
        return _ack(command, AckStatus.APPLIED, None, applied.how)

    def _refuse(self, command: CameraConfigCommand, reason: str) -> CommandAck:
        self.stats.refused += 1
        logger.warning("camera %s: config version %d refused: %s", command.camera_id, command.version, reason)
        return _ack(command, AckStatus.REFUSED, reason)


def _picture(node: Node, camera_id: str) -> tuple[bytes, int, int] | None:
    """The camera's frame as JPEG with the frame's size, made smaller to fit ``PICTURE_MAX_BYTES``."""
    import cv2
    import numpy as np

    jpeg = node.picture(camera_id)
    if jpeg is None:
        return None
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height, width = image.shape[:2]
    scale = 1.0
    while len(jpeg) > PICTURE_MAX_BYTES and scale > 0.2:  # bounded: at most 5 tries
        scale *= 0.7
        small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))))
        ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            jpeg = bytes(encoded)
    return jpeg, int(width), int(height)


def _ack(
    command: CameraConfigCommand, status: AckStatus, reason: str | None, how: str | None = None
) -> CommandAck:
    return CommandAck(
        command_id=command.command_id,
        center_id=command.center_id,
        camera_id=command.camera_id,
        version=command.version,
        status=status,
        reason=None if reason is None else reason[:2000],
        how=how,
        at=datetime.now(UTC),
    )


@contextlib.asynccontextmanager
async def consuming_commands(bus: Bus, node: Node, center_ids: list[str]) -> AsyncIterator[CommandConsumer]:
    """Run a :class:`CommandConsumer` in the background for the block's duration."""
    consumer = CommandConsumer(bus, node, center_ids)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop), name="edge-commands")
    try:
        yield consumer
    finally:
        stop.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError, BusError):
            await asyncio.wait_for(task, timeout=5.0)


__all__ = ["CommandConsumer", "CommandStats", "consuming_commands"]
