"""The edges' answers to camera commands (``hwarang.acks.<center>``), stored on their versions."""

import asyncio
import contextlib
import logging

from pydantic import ValidationError

from hwarang.bus import Bus, BusError
from hwarang.bus.subjects import ACKS_ALL
from hwarang.domain import CameraPicture, CommandAck
from hwarang.hub.errors import StoreError
from hwarang.hub.fusion.camera_config import PictureExchange
from hwarang.hub.fusion.camera_versions import CameraConfigStore

logger = logging.getLogger(__name__)

__all__ = ["AckWorker"]


class AckWorker:
    """Reads every center's answers and records them; an answer naming another center is dropped."""

    def __init__(
        self,
        bus: Bus,
        store: CameraConfigStore,
        *,
        durable: str = "hub-acks",
        pictures: PictureExchange | None = None,
    ) -> None:
        self._bus = bus
        self._pictures = pictures
        self._store = store
        self._durable = durable
        self.recorded = 0
        self.dropped = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Record answers until ``stop`` is set."""
        subscription = None
        delay = 1.0
        while subscription is None:  # the answers stream may be made by another hub process
            try:
                subscription = await self._bus.subscribe(ACKS_ALL, durable=self._durable)
            except BusError as exc:
                logger.warning("camera answers cannot be read yet (retrying): %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                if stop.is_set():
                    return
                delay = min(delay * 2.0, 30.0)
        try:
            while not stop.is_set():
                try:
                    deliveries = await subscription.fetch(batch=32, timeout_s=0.5)
                except BusError as exc:
                    logger.warning("camera answers: fetch failed: %s", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
                    continue
                for delivery in deliveries:
                    tokens = delivery.subject.split(".")
                    center = tokens[2] if len(tokens) > 2 else ""
                    if tokens[3:] == ["picture"]:
                        self._picture(center, delivery.data)
                        await delivery.ack()
                        continue
                    try:
                        ack = CommandAck.model_validate_json(delivery.data)
                    except ValidationError as exc:
                        logger.warning("camera answer on %s is malformed: %s", delivery.subject, exc)
                        self.dropped += 1
                        await delivery.term()
                        continue
                    if ack.center_id != center:
                        logger.warning(
                            "answer on %s names center %s: dropped", delivery.subject, ack.center_id
                        )
                        self.dropped += 1
                        await delivery.term()
                        continue
                    try:
                        stored = await asyncio.to_thread(self._store.record_answer, ack)
                    except StoreError as exc:
                        logger.warning("camera answer not stored yet: %s", exc)
                        await delivery.nak(1.0)
                        continue
                    self.recorded += int(stored)
                    self.dropped += int(not stored)
                    await delivery.ack()
        finally:
            with contextlib.suppress(BusError):
                await subscription.close()

    def _picture(self, center: str, data: bytes) -> None:
        """A picture an edge sent: to whoever asked for it (nobody: dropped, it is not kept)."""
        try:
            picture = CameraPicture.model_validate_json(data)
        except ValidationError as exc:
            logger.warning("camera picture from %s is malformed: %s", center, exc)
            return
        if picture.center_id == center and self._pictures is not None:
            self._pictures.deliver(picture)

    def as_dict(self) -> dict[str, int]:
        """Counters for health."""
        return {"recorded": self.recorded, "dropped": self.dropped}
