"""The clip loop: bus chunks on ``hwarang.clips.>`` -> :class:`~hwarang.hub.evidence.clips.ClipIntake`.

A chunk is acked once its part is on disk (or the clip is already held), so a cut or a restart
resumes with the parts still missing. The last chunk of a clip whose events have not reached the
hub yet (events and clips travel in separate streams) is nak'ed with a delay until they have; after
``max_deliver`` tries it is acked and counted (the clip stays stored). Malformed chunks and clips
whose bytes do not verify go to ``hwarang.deadletter.invalid_clip``.
"""

import asyncio
import contextlib
import logging
from dataclasses import asdict, dataclass

from hwarang.bus import Bus, BusError, Delivery, Subscription
from hwarang.bus.clipwire import read_chunk
from hwarang.bus.subjects import CLIPS_ALL, dead_letter_subject
from hwarang.hub.errors import IngestError, StoreError
from hwarang.hub.evidence.clips import ChunkOutcome, ClipIntake

logger = logging.getLogger(__name__)

INVALID_CLIP_REASON = "invalid_clip"
ERROR_HEADER = "hwarang-error"
LINK_RETRY_S = 2.0
MAX_DELIVER = 60


@dataclass(slots=True)
class ClipStats:
    """Counters of the clip loop since start."""

    chunks: int = 0
    clips: int = 0
    duplicates: int = 0
    bytes: int = 0
    waiting_for_events: int = 0
    unlinked: int = 0
    invalid: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name, for health reports."""
        return asdict(self)


class ClipWorker:
    """Consumes clip chunks through the durable consumer ``durable``."""

    def __init__(
        self, bus: Bus, intake: ClipIntake, *, subject: str = CLIPS_ALL, durable: str = "hub-clips"
    ) -> None:
        self._bus = bus
        self._intake = intake
        self._subject = subject
        self._durable = durable
        self._subscription: Subscription | None = None
        self.stats = ClipStats()

    async def process(self, timeout_s: float = 1.0) -> int:
        """Fetch and handle one batch; returns how many chunks arrived."""
        if self._subscription is None:
            self._subscription = await self._bus.subscribe(
                self._subject, durable=self._durable, max_deliver=MAX_DELIVER
            )
        deliveries = await self._subscription.fetch(batch=16, timeout_s=timeout_s)
        for delivery in deliveries:
            await self._handle(delivery)
        return len(deliveries)

    async def run(self, stop: asyncio.Event) -> None:
        """Handle chunks until ``stop`` is set; bus failures are logged and retried after a pause."""
        logger.info("clip worker started on %s (durable %s)", self._subject, self._durable)
        try:
            while not stop.is_set():
                try:
                    await self.process(0.5)
                except BusError as exc:
                    logger.warning("clip fetch on %s failed: %s; retrying", self._subject, exc)
                    self._subscription = None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
        finally:
            await self.close()
            logger.info("clip worker stopped: %s", self.stats)

    async def close(self) -> None:
        """Close the subscription (unacked chunks return to the durable consumer)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(BusError):
                await subscription.close()

    async def _handle(self, delivery: Delivery) -> None:
        try:
            chunk = read_chunk(delivery.headers, delivery.data)
            result = await asyncio.to_thread(
                self._intake.chunk, chunk.sha256, chunk.part, chunk.parts, chunk.manifest_json, chunk.data
            )
        except (BusError, IngestError) as exc:
            await self._dead_letter(delivery, str(exc)[:300])
            return
        except (StoreError, OSError) as exc:
            self.stats.failed += 1
            logger.warning("clip chunk %s not stored, will retry: %s", delivery.msg_id, exc)
            with contextlib.suppress(BusError):
                await delivery.nak(delay_s=LINK_RETRY_S)
            return
        self.stats.chunks += 1
        self.stats.bytes += len(chunk.data)
        if result.outcome is ChunkOutcome.STORED:
            self.stats.clips += 1
        elif result.outcome is ChunkOutcome.DUPLICATE:
            self.stats.duplicates += 1
        if result.missing_events and delivery.num_delivered < MAX_DELIVER:
            self.stats.waiting_for_events += 1
            with contextlib.suppress(BusError):
                await delivery.nak(delay_s=LINK_RETRY_S)
            return
        if result.missing_events:
            self.stats.unlinked += 1
            logger.error(
                "clip %s kept, but events %s never reached the hub", result.sha256, result.missing_events
            )
        try:
            await delivery.ack()
        except BusError as exc:
            logger.warning(
                "clip chunk %s stored but ack failed (redelivery expected): %s", delivery.msg_id, exc
            )

    async def _dead_letter(self, delivery: Delivery, error: str) -> None:
        self.stats.invalid += 1
        logger.warning("invalid clip chunk on %s (msg id %s): %s", delivery.subject, delivery.msg_id, error)
        headers = {k: v for k, v in delivery.headers.items() if k.lower() != "nats-msg-id"}
        headers[ERROR_HEADER] = error
        try:
            await self._bus.publish(dead_letter_subject(INVALID_CLIP_REASON), delivery.data, headers=headers)
        except BusError as exc:
            logger.error("cannot dead-letter clip chunk: %s; nak for retry", exc)
            with contextlib.suppress(BusError):
                await delivery.nak(delay_s=LINK_RETRY_S)
            return
        await delivery.term()
