"""A small TAK-compatible streaming server: TAK clients connect over TCP and receive incidents as CoT.

It speaks what a TAK server's plain TCP streaming port speaks (TAK protocol version 0: one CoT XML
``<event>`` after another, each with its XML declaration); ``wire="protobuf"`` sends TAK protocol v1
stream framing instead, for consumers set up for it. Clients' own traffic is read and discarded,
except TAK pings (``t-x-c-t``), which are answered with a pong (``t-x-c-t-r``). No TLS: put it
behind a TLS-terminating proxy, or keep it on a trusted network (see docs/interop.md).

``publish`` may be called from any thread (e.g. ``Journal.add_listener(server.publish)``); each
client has a bounded queue, and an event that does not fit is dropped and counted, never waited for.
"""

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from lxml import etree
from takproto import TAKProtoVer, xml2proto

from hwarang.domain import Incident
from hwarang.interop.cot import (
    DEFAULT_STALE_S,
    UNKNOWN_METRES,
    cot_time,
    incident_to_cot_xml,
    incident_to_tak_protobuf,
)

logger = logging.getLogger(__name__)

Wire = Literal["xml", "protobuf"]
MAX_INBOUND_BYTES = 64 * 1024
"""Bytes of a client's unfinished inbound event kept before they are discarded."""
_PING = re.compile(rb"""\btype\s*=\s*["']t-x-c-t["']""")
_EVENT_END = b"</event>"


@dataclass(frozen=True, slots=True)
class TakStreamStats:
    """Counters since start-up; ``dropped`` counts events a slow client's full queue could not take."""

    clients: int
    published: int
    filtered: int
    skipped_without_geo: int
    not_running: int
    sent: int
    dropped: int
    pings: int
    refused: int


def pong_xml(now: datetime) -> bytes:
    """The CoT pong (``t-x-c-t-r``) a TAK server sends in answer to a client's ping."""
    event = etree.Element(
        "event",
        version="2.0",
        uid="takPong",
        type="t-x-c-t-r",
        how="h-g-i-g-o",
        time=cot_time(now),
        start=cot_time(now),
        stale=cot_time(now + timedelta(seconds=20)),
    )
    unknown = repr(UNKNOWN_METRES)
    etree.SubElement(event, "point", lat="0.0", lon="0.0", hae=unknown, ce=unknown, le=unknown)
    etree.SubElement(event, "detail")
    result: bytes = etree.tostring(event, xml_declaration=True, encoding="UTF-8")
    return result


class _Client:
    def __init__(self, peer: str, queue_size: int) -> None:
        self.peer = peer
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self.dropped = 0


class TakStreamServer:
    """Streams the incidents ``accept`` admits as CoT to every connected TCP client.

    The stream has no login: ``accept`` is the need-to-know decision for everyone connected.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        accept: Callable[[Incident], bool],
        queue_size: int = 256,
        max_clients: int = 64,
        stale_s: float = DEFAULT_STALE_S,
        wire: Wire = "xml",
    ) -> None:
        if queue_size < 1 or max_clients < 1:
            raise ValueError(f"queue_size and max_clients must be >= 1, got {queue_size}, {max_clients}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0..65535, got {port}")
        self._host = host
        self._requested_port = port
        self._accept = accept
        self._queue_size = queue_size
        self._max_clients = max_clients
        self._stale_s = stale_s
        self._wire: Wire = wire
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[_Client] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            (
                "published",
                "filtered",
                "skipped_without_geo",
                "not_running",
                "sent",
                "dropped",
                "pings",
                "refused",
            ),
            0,
        )

    @property
    def port(self) -> int:
        """The port listened on (the one the OS chose when constructed with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("TakStreamServer is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Listen on ``host:port`` on the running event loop."""
        if self._server is not None:
            raise RuntimeError("TakStreamServer is already started")
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, self._host, self._requested_port)
        logger.info("TAK stream server listening on %s:%s (%s)", self._host, self.port, self._wire)

    async def stop(self) -> None:
        """Stop listening and disconnect every client."""
        server, self._server = self._server, None
        self._loop = None
        if server is None:
            return
        server.close()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
        logger.info("TAK stream server stopped")

    def stats(self) -> TakStreamStats:
        """A snapshot of the counters."""
        with self._lock:
            return TakStreamStats(clients=len(self._clients), **self._counts)

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def _encode(self, incident: Incident) -> bytes:
        now = datetime.now(UTC)
        if self._wire == "protobuf":
            return incident_to_tak_protobuf(incident, framing="stream", now=now, stale_s=self._stale_s)
        return incident_to_cot_xml(incident, now=now, stale_s=self._stale_s)

    def publish(self, incident: Incident) -> None:
        """Send ``incident`` to every client if ``accept`` admits it; any thread, never blocks."""
        self._count("published")
        if not self._accept(incident):
            self._count("filtered")
            return
        if incident.geo is None:
            self._count("skipped_without_geo")
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            self._count("not_running")
            return
        payload = self._encode(incident)
        try:
            loop.call_soon_threadsafe(self._fan_out, payload)
        except RuntimeError:  # the loop closed in between
            self._count("not_running")

    def _fan_out(self, payload: bytes) -> None:
        for client in tuple(self._clients):
            self._offer(client, payload)

    def _offer(self, client: _Client, payload: bytes) -> None:
        try:
            client.queue.put_nowait(payload)
        except asyncio.QueueFull:
            client.dropped += 1
            self._count("dropped")
            if client.dropped == 1 or client.dropped % 100 == 0:
                logger.warning("TAK client %s is too slow: %d events dropped", client.peer, client.dropped)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = "{}:{}".format(*writer.get_extra_info("peername", ("?", 0))[:2])
        if len(self._clients) >= self._max_clients:
            self._count("refused")
            logger.warning("TAK client %s refused: %d clients already connected", peer, self._max_clients)
            writer.close()
            return
        task = asyncio.current_task()
        client = _Client(peer, self._queue_size)
        self._clients.add(client)
        if task is not None:
            self._handlers.add(task)
        logger.info("TAK client %s connected", peer)
        sending = asyncio.create_task(self._send(client, writer))
        receiving = asyncio.create_task(self._receive(client, reader))
        try:
            await asyncio.wait({sending, receiving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for part in (sending, receiving):
                part.cancel()
            await asyncio.gather(sending, receiving, return_exceptions=True)
            self._clients.discard(client)
            if task is not None:
                self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
            logger.info("TAK client %s disconnected (%d events dropped)", peer, client.dropped)

    async def _send(self, client: _Client, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                payload = await client.queue.get()
                writer.write(payload)
                await writer.drain()
                self._count("sent")
        except (ConnectionError, OSError) as exc:
            logger.info("TAK client %s: send failed: %s", client.peer, exc)

    async def _receive(self, client: _Client, reader: asyncio.StreamReader) -> None:
        buffer = b""
        try:
            while chunk := await reader.read(4096):
                buffer += chunk
                *events, buffer = buffer.split(_EVENT_END)
                for event in events:
                    if _PING.search(event):
                        self._count("pings")
                        self._offer(client, self._pong())
                if len(buffer) > MAX_INBOUND_BYTES:
                    buffer = b""
        except (ConnectionError, OSError) as exc:
            logger.info("TAK client %s: receive failed: %s", client.peer, exc)

    def _pong(self) -> bytes:
        pong = pong_xml(datetime.now(UTC))
        return bytes(xml2proto(pong, TAKProtoVer.STREAM)) if self._wire == "protobuf" else pong
