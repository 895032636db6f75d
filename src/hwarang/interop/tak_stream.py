"""A small TAK-compatible streaming server: TAK clients connect over TCP and receive incidents as CoT.

It speaks what a TAK server's plain TCP streaming port speaks. Every connection starts in TAK
protocol version 0 (one CoT XML ``<event>`` after another). With ``wire="protobuf"`` the server
negotiates as ATAK expects: it offers version 1 (``t-x-takp-v``), a client that wants it asks
(``t-x-takp-q``), the server answers (``t-x-takp-r``, ``status="true"``) and only then does that
connection switch to ``0xbf`` protobuf stream framing, in both directions. Clients that never ask
stay in XML; each client is answered in its own mode (an XML ping gets an XML pong). With
``wire="xml"`` no version is offered and requests are declined. Clients' own events are read with
:mod:`hwarang.interop.cot_reader` and handed to ``on_cot`` (if given) with the peer; events that do
not validate are counted and logged, never fatal. No TLS: put it behind a TLS-terminating proxy,
or keep it on a trusted network (see docs/interop.md).

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
from hwarang.interop.cot_reader import CotReport, read_cot, split_protobuf, split_xml
from hwarang.interop.errors import CotError

logger = logging.getLogger(__name__)

Wire = Literal["xml", "protobuf"]
Mode = Literal["xml", "protobuf"]
MAX_INBOUND_BYTES = 64 * 1024
"""Bytes of a client's unfinished inbound event kept before they are discarded."""
PROTOCOL_VERSION = "1"
_TYPE = re.compile(rb"""\btype\s*=\s*["']([^"']*)["']""")
_REQUEST_VERSION = re.compile(rb"""<TakRequest\b[^>]*\bversion\s*=\s*["']([^"']*)["']""")
CotHandler = Callable[[CotReport, str], None]
"""Called on the server's loop with each valid event a client sends and the client's address."""


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
    negotiated: int
    received: int
    invalid: int


def _control_xml(uid: str, cot_type: str, now: datetime, control: etree._Element | None = None) -> bytes:
    event = etree.Element(
        "event",
        version="2.0",
        uid=uid,
        type=cot_type,
        how="h-g-i-g-o",
        time=cot_time(now),
        start=cot_time(now),
        stale=cot_time(now + timedelta(seconds=20 if control is None else 60)),
    )
    unknown = repr(UNKNOWN_METRES)
    etree.SubElement(event, "point", lat="0.0", lon="0.0", hae=unknown, ce=unknown, le=unknown)
    detail = etree.SubElement(event, "detail")
    if control is not None:
        detail.append(control)
    result: bytes = etree.tostring(event, xml_declaration=True, encoding="UTF-8")
    return result


def pong_xml(now: datetime) -> bytes:
    """The CoT pong (``t-x-c-t-r``) a TAK server sends in answer to a client's ping."""
    return _control_xml("takPong", "t-x-c-t-r", now)


def protocol_offer_xml(now: datetime) -> bytes:
    """The server's offer of TAK protocol version 1 (``t-x-takp-v``), sent in XML on connect."""
    control = etree.Element("TakControl")
    etree.SubElement(control, "TakProtocolSupport", version=PROTOCOL_VERSION)
    return _control_xml("protouid", "t-x-takp-v", now, control)


def protocol_response_xml(now: datetime, *, accepted: bool) -> bytes:
    """The server's answer (``t-x-takp-r``) to a client's protocol request."""
    control = etree.Element("TakControl")
    etree.SubElement(control, "TakResponse", status="true" if accepted else "false")
    return _control_xml("protouid", "t-x-takp-r", now, control)


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One item of a client's queue: XML, and protobuf for clients that negotiated it."""

    xml: bytes
    protobuf: bytes | None = None
    switch_after: bool = False


class _Client:
    def __init__(self, peer: str, queue_size: int) -> None:
        self.peer = peer
        self.queue: asyncio.Queue[_Outgoing] = asyncio.Queue(queue_size)
        self.dropped = 0
        self.mode: Mode = "xml"
        """What is sent: switches to protobuf once the protocol response has been written."""
        self.reading: Mode = "xml"
        """What is read: switches as soon as the client's request is accepted."""


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
        on_cot: CotHandler | None = None,
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
        self._on_cot = on_cot
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
                "negotiated",
                "received",
                "invalid",
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

    def _encode(self, incident: Incident) -> _Outgoing:
        now = datetime.now(UTC)
        xml = incident_to_cot_xml(incident, now=now, stale_s=self._stale_s)
        if self._wire != "protobuf":
            return _Outgoing(xml)
        protobuf = incident_to_tak_protobuf(incident, framing="stream", now=now, stale_s=self._stale_s)
        return _Outgoing(xml, protobuf)

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

    def _fan_out(self, payload: _Outgoing) -> None:
        for client in tuple(self._clients):
            self._offer(client, payload)

    def _offer(self, client: _Client, payload: _Outgoing) -> None:
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
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        client = _Client(peer, self._queue_size)
        self._clients.add(client)
        if task is not None:
            self._handlers.add(task)
        logger.info("TAK client %s connected", peer)
        if self._wire == "protobuf":
            self._offer(client, _Outgoing(protocol_offer_xml(datetime.now(UTC))))
        sending = asyncio.create_task(self._send(client, writer))
        receiving = asyncio.create_task(self._receive(client, reader))
        try:
            await asyncio.wait({sending, receiving}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # stop(): the connection ends here, quietly (no traceback from the server's task)
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
                item = await client.queue.get()
                use_protobuf = client.mode == "protobuf" and item.protobuf is not None
                writer.write(item.protobuf if use_protobuf and item.protobuf is not None else item.xml)
                await writer.drain()
                if item.switch_after:
                    client.mode = "protobuf"
                self._count("sent")
        except (ConnectionError, OSError) as exc:
            logger.info("TAK client %s: send failed: %s", client.peer, exc)

    async def _receive(self, client: _Client, reader: asyncio.StreamReader) -> None:
        buffer = b""
        try:
            while chunk := await reader.read(4096):
                buffer += chunk
                while True:
                    mode = client.reading
                    if mode == "xml":
                        events, buffer = split_xml(buffer)
                    else:
                        events, buffer = split_protobuf(buffer)
                    for index, event in enumerate(events):
                        self._inbound(client, event)
                        if client.reading != mode:  # switched: the rest is in the new framing
                            buffer = b"".join(events[index + 1 :]) + buffer
                            break
                    if client.reading == mode:
                        break
                if len(buffer) > MAX_INBOUND_BYTES:
                    buffer = b""
        except CotError as exc:
            logger.warning("TAK client %s: unreadable stream, disconnecting: %s", client.peer, exc)
        except (ConnectionError, OSError) as exc:
            logger.info("TAK client %s: receive failed: %s", client.peer, exc)

    def _inbound(self, client: _Client, event: bytes) -> None:
        if client.reading == "xml":
            match = _TYPE.search(event)
            cot_type = match.group(1).decode("ascii", "replace") if match else ""
            if cot_type == "t-x-takp-q":
                self._answer_request(client, event)
                return
            if cot_type == "t-x-c-t":
                self._pong(client)
                return
        try:
            report = read_cot(event)
        except CotError as exc:
            self._count("invalid")
            logger.info("TAK client %s: event refused: %s", client.peer, exc)
            return
        if report.type == "t-x-c-t":
            self._pong(client)
            return
        self._count("received")
        if self._on_cot is not None and report.kind != "control":
            try:
                self._on_cot(report, client.peer)
            except Exception:  # a stage's top: the handler's failure must not end the connection
                logger.exception("TAK client %s: handling event %s failed", client.peer, report.uid)

    def _answer_request(self, client: _Client, event: bytes) -> None:
        match = _REQUEST_VERSION.search(event)
        accepted = (
            self._wire == "protobuf" and match is not None and match.group(1) == PROTOCOL_VERSION.encode()
        )
        self._offer(
            client,
            _Outgoing(protocol_response_xml(datetime.now(UTC), accepted=accepted), switch_after=accepted),
        )
        if accepted:
            client.reading = "protobuf"
            self._count("negotiated")
        logger.info(
            "TAK client %s asked for protocol %s: %s", client.peer, match and match.group(1), accepted
        )

    def _pong(self, client: _Client) -> None:
        self._count("pings")
        pong = pong_xml(datetime.now(UTC))
        self._offer(client, _Outgoing(pong, bytes(xml2proto(pong, TAKProtoVer.STREAM))))
