"""``LiveWire`` over core NATS: live video and its leases as plain subjects (never JetStream).

Callable from any thread: publishes and subscriptions are scheduled on the client's event loop
without waiting, so a camera thread and the hub's loop itself use it alike.
"""

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg

from hwarang.bus.livewire import Handler, Unsubscribe

logger = logging.getLogger(__name__)


class NatsLiveWire:
    """A :class:`~hwarang.bus.livewire.LiveWire` on a connected NATS client and its event loop."""

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop
        self._lock = threading.Lock()
        self.bytes_published = 0

    def publish(self, subject: str, data: bytes) -> None:
        """Publish ``data`` on ``subject`` (scheduled; a failure is logged, live video is not retried)."""
        with self._lock:
            self.bytes_published += len(data)
        future = asyncio.run_coroutine_threadsafe(self._client.publish(subject, data), self._loop)
        future.add_done_callback(_log_failure)

    def subscribe(self, subject: str, handler: Handler) -> Unsubscribe:
        """Call ``handler`` for each message on ``subject`` (on the client's loop)."""

        async def on_message(msg: Msg) -> None:
            handler(msg.subject, msg.data)

        subscribed = asyncio.run_coroutine_threadsafe(
            self._client.subscribe(subject, cb=on_message), self._loop
        )

        async def stop() -> None:
            subscription = await asyncio.wrap_future(subscribed)
            await subscription.unsubscribe()

        def unsubscribe() -> None:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).add_done_callback(_log_failure)

        return unsubscribe


def _log_failure(future: "Future[Any]") -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("live wire: %s", future.exception())
