"""The NATS JetStream backend of the ``Bus`` protocol (nats-py).

- ``publish`` is a JetStream publish acked by the server; ``msg_id`` goes into the ``Nats-Msg-Id``
  header, so a retry within the stream's duplicate window is stored once (``PublishAck.duplicate``).
- ``subscribe`` opens (or resumes) a durable **pull** consumer with explicit acks; ``fetch`` returns
  ``[]`` on timeout. ``nak(delay)`` and ack-wait expiry redeliver, ``num_delivered`` counts tries.
- The connection reconnects forever with exponential backoff; a call made while disconnected
  fails with ``BusError`` after its timeout (the caller retries, the msg id keeps it idempotent).
- A publish the server refuses because a limit is reached (a ``discard: new`` stream at
  ``max_msgs``/``max_bytes``, or JetStream storage used up) raises ``BusFullError``; the caller
  retries. The Hwarang streams keep JetStream's default ``discard: old`` (see docs/reliability.md).
- ``ensure_stream`` creates or updates a stream (also one that *sources* from leaf-node domains).
"""

import asyncio
import logging
import random
import ssl
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client, Server
from nats.js import api

from hwarang.bus.base import BusError, BusFullError, PublishAck
from hwarang.bus.nats_consumer import MSG_ID_HEADER, NatsSubscription
from hwarang.bus.subjects import validate_subject

logger = logging.getLogger(__name__)

Storage = Literal["file", "memory"]

STORE_FAILED_ERR_CODE = 10077
"""JetStream's "store failed" error: "maximum messages/bytes exceeded" from a ``discard: new`` stream."""
INSUFFICIENT_RESOURCES_ERR_CODE = 10023
"""JetStream's "insufficient resources": the server's or account's storage is used up."""


@dataclass(frozen=True, slots=True)
class StreamSourceSpec:
    """A stream this stream copies from; ``domain`` names another JetStream domain (a leaf node)."""

    name: str
    domain: str | None = None
    filter_subject: str | None = None

    def to_api(self) -> api.StreamSource:
        """The nats-py form (``external.api = $JS.<domain>.API`` for another domain)."""
        external = api.ExternalStream(api=f"$JS.{self.domain}.API") if self.domain else None
        return api.StreamSource(name=self.name, filter_subject=self.filter_subject, external=external)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message read back from a stream by sequence number."""

    subject: str
    data: bytes
    headers: Mapping[str, str]


class NatsBus:
    """``Bus`` over NATS JetStream. Create with :meth:`connect`; close with :meth:`close`."""

    def __init__(self, nc: Client, *, domain: str | None = None, api_timeout_s: float = 5.0) -> None:
        self._nc = nc
        self._js = nc.jetstream(domain=domain, timeout=api_timeout_s)
        self._api_timeout_s = api_timeout_s
        self._domain = domain
        self._closed = False
        self._stream_by_filter: dict[str, str] = {}
        self.errors: deque[str] = deque(maxlen=50)
        self.disconnects = 0
        self.reconnects = 0

    @classmethod
    async def connect(
        cls,
        servers: Sequence[str],
        *,
        name: str = "hwarang",
        user: str | None = None,
        password: str | None = None,
        creds_file: Path | None = None,
        nkey_seed_file: Path | None = None,
        tls: ssl.SSLContext | None = None,
        domain: str | None = None,
        inbox_prefix: str | None = None,
        connect_timeout_s: float = 5.0,
        first_connect_wait_s: float = 30.0,
        reconnect_wait_s: float = 0.5,
        reconnect_wait_max_s: float = 10.0,
        api_timeout_s: float = 5.0,
    ) -> "NatsBus":
        """Connect (retrying for up to ``first_connect_wait_s``) and return a bus that reconnects forever.

        Credentials: ``user``/``password``, or a ``.creds`` file (JWT + nkey), or an nkey seed file.
        ``tls`` is an ``ssl.SSLContext`` for ``tls://`` servers (placeholder: deployments on an
        air-gapped LAN use accounts and passwords; a CA-signed context is passed here when required).
        ``domain`` addresses another JetStream domain (e.g. a leaf node's) for streams and consumers.
        """
        if not servers:
            raise BusError("no NATS servers given")
        holder: list[NatsBus] = []

        async def on_error(exc: Exception) -> None:
            if holder:
                holder[0]._record_error(exc)
            else:
                logger.warning("nats %s: %s", name, exc)

        async def on_disconnect() -> None:
            if holder and holder[0].closed:
                return
            if holder:
                holder[0].disconnects += 1
            logger.warning("nats %s: disconnected; reconnecting", name)

        async def on_reconnect() -> None:
            if holder:
                holder[0].reconnects += 1
            logger.info("nats %s: reconnected to %s", name, _url(nc))

        options: dict[str, Any] = {
            "servers": list(servers),
            "name": name,
            "connect_timeout": connect_timeout_s,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_to_server_handler": _backoff_handler(reconnect_wait_s, reconnect_wait_max_s),
            "error_cb": on_error,
            "disconnected_cb": on_disconnect,
            "reconnected_cb": on_reconnect,
        }
        if user is not None:
            options["user"] = user
            options["password"] = password
        if creds_file is not None:
            options["user_credentials"] = str(creds_file)
        if nkey_seed_file is not None:
            options["nkeys_seed"] = str(nkey_seed_file)
        if tls is not None:
            options["tls"] = tls
        if inbox_prefix is not None:
            options["inbox_prefix"] = inbox_prefix
        nc = Client()
        try:
            await asyncio.wait_for(nc.connect(**options), timeout=first_connect_wait_s)
        except (TimeoutError, nats.errors.Error, OSError) as exc:
            await _quiet_close(nc)
            raise BusError(
                f"cannot connect to NATS {', '.join(servers)} as {user or 'anonymous'} "
                f"within {first_connect_wait_s:.0f} s: {exc or type(exc).__name__}"
            ) from exc
        bus = cls(nc, domain=domain, api_timeout_s=api_timeout_s)
        holder.append(bus)
        logger.info("nats %s: connected to %s", name, _url(nc))
        return bus

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    @property
    def connected(self) -> bool:
        """True while a server connection is up."""
        return self._nc.is_connected

    @property
    def client(self) -> Client:
        """The underlying nats-py client (for tools and tests)."""
        return self._nc

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PublishAck:
        """JetStream publish; a repeated ``msg_id`` within the duplicate window is stored once."""
        self._check_open()
        validate_subject(subject, allow_wildcards=False)
        hdrs = dict(headers or {})
        if msg_id is not None:
            hdrs[MSG_ID_HEADER] = msg_id
        try:
            ack = await self._js.publish(subject, data, timeout=self._api_timeout_s, headers=hdrs or None)
        except (nats.errors.NoRespondersError, nats.js.errors.NoStreamResponseError) as exc:
            raise BusError(f"publish to {subject}: no stream stores this subject ({self._where()})") from exc
        except nats.js.errors.APIError as exc:
            if _stream_full(exc):
                raise BusFullError(
                    f"publish to {subject} (msg id {msg_id}) refused, the stream is full: {exc.description}",
                    limit=exc.description or "stream full",
                ) from exc
            raise BusError(f"publish to {subject} (msg id {msg_id}) failed: {exc}") from exc
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise BusError(
                f"publish to {subject} (msg id {msg_id}) failed: {exc or type(exc).__name__}"
            ) from exc
        return PublishAck(ack.stream, ack.seq, bool(ack.duplicate))

    async def subscribe(
        self,
        subject_filter: str,
        *,
        durable: str,
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
    ) -> NatsSubscription:
        """Create or resume the durable pull consumer ``durable`` (explicit ack) over ``subject_filter``."""
        self._check_open()
        validate_subject(subject_filter, allow_wildcards=True)
        stream = await self._stream_for(subject_filter)
        try:
            info = await self._js.consumer_info(stream, durable)
        except nats.js.errors.NotFoundError:
            info = None
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise self._api_error(f"look up durable {durable!r} on {stream}", exc) from exc
        if info is not None and info.config.filter_subject != subject_filter:
            raise BusError(
                f"durable {durable!r} already filters {info.config.filter_subject!r}, not {subject_filter!r}"
            )
        config = api.ConsumerConfig(
            name=durable,
            durable_name=durable,
            filter_subject=subject_filter,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=ack_wait_s,
            max_deliver=max_deliver,
        )
        try:
            await self._js.add_consumer(stream, config)
            psub = await self._js.pull_subscribe_bind(durable=durable, stream=stream)
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise self._api_error(f"open durable {durable!r} on {stream} ({subject_filter})", exc) from exc
        return NatsSubscription(self, psub, durable)

    async def ensure_stream(
        self,
        name: str,
        subjects: Sequence[str],
        *,
        max_age_s: float = 7 * 86400.0,
        max_bytes: int = -1,
        duplicate_window_s: float = 120.0,
        storage: Storage = "file",
        replicas: int = 1,
        sources: Sequence[StreamSourceSpec] = (),
    ) -> Literal["created", "updated", "unchanged"]:
        """Create the stream, or update it when its settings differ; idempotent."""
        self._check_open()
        for subject in subjects:
            validate_subject(subject, allow_wildcards=True)
        want = api.StreamConfig(
            name=name,
            subjects=list(subjects),
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE if storage == "file" else api.StorageType.MEMORY,
            max_age=max_age_s,
            max_bytes=max_bytes,
            duplicate_window=duplicate_window_s,
            num_replicas=replicas,
            sources=[s.to_api() for s in sources] or None,
        )
        try:
            try:
                have = (await self._js.stream_info(name)).config
            except nats.js.errors.NotFoundError:
                await self._js.add_stream(want)
                logger.info("stream %s created (%s)", name, ", ".join(subjects) or "sources only")
                return "created"
            if _stream_key(have) == _stream_key(want):
                return "unchanged"
            await self._js.update_stream(want)
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise self._api_error(f"ensure stream {name}", exc) from exc
        logger.info("stream %s updated", name)
        return "updated"

    async def stream_state(self, name: str) -> tuple[int, int, int]:
        """``(messages, first_seq, last_seq)`` of a stream (for health and tests)."""
        self._check_open()
        try:
            state = (await self._js.stream_info(name)).state
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise self._api_error(f"stream info {name}", exc) from exc
        return state.messages, state.first_seq, state.last_seq

    async def stored_message(self, stream: str, seq: int) -> StoredMessage | None:
        """The message ``seq`` of ``stream`` (None when the stream no longer holds it)."""
        self._check_open()
        try:
            raw = await self._js.get_msg(stream, seq)
        except nats.js.errors.NotFoundError:
            return None
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise self._api_error(f"get message {seq} of {stream}", exc) from exc
        headers = {str(k): str(v) for k, v in (raw.headers or {}).items()}
        return StoredMessage(raw.subject or "", raw.data or b"", headers)

    async def close(self) -> None:
        """Drain and close the connection; further calls raise ``BusError``."""
        if self._closed:
            return
        self._closed = True
        await _quiet_close(self._nc)

    def _check_open(self) -> None:
        if self._closed:
            raise BusError("bus is closed")

    def _where(self) -> str:
        return f"domain {self._domain}" if self._domain else "default domain"

    def _record_error(self, exc: Exception) -> None:
        text = str(exc) or type(exc).__name__
        self.errors.append(text)
        logger.warning("nats: %s", text)

    def _api_error(self, what: str, exc: BaseException) -> BusError:
        recent = [e for e in self.errors if "permissions violation" in e.lower()]
        detail = f"; server said: {recent[-1]}" if recent else ""
        return BusError(f"{what} failed: {exc or type(exc).__name__}{detail}")

    async def _stream_for(self, subject_filter: str) -> str:
        cached = self._stream_by_filter.get(subject_filter)
        if cached is not None:
            return cached
        try:
            stream = await self._js.find_stream_name_by_subject(subject_filter)
        except nats.js.errors.NotFoundError as exc:
            raise BusError(f"no stream stores {subject_filter!r} ({self._where()}); create it first") from exc
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise self._api_error(f"find the stream for {subject_filter!r}", exc) from exc
        self._stream_by_filter[subject_filter] = stream
        return stream


def _stream_full(exc: nats.js.errors.APIError) -> bool:
    """The server refused to store because a limit is reached (retrying later can succeed)."""
    if exc.err_code == INSUFFICIENT_RESOURCES_ERR_CODE:
        return True
    return exc.err_code == STORE_FAILED_ERR_CODE and "maximum" in (exc.description or "")


def _stream_key(cfg: api.StreamConfig) -> tuple[object, ...]:
    sources = sorted(
        (s.name, s.filter_subject or "", s.external.api if s.external else "") for s in cfg.sources or ()
    )
    return (
        sorted(cfg.subjects or ()),
        cfg.storage,
        round(float(cfg.max_age or 0), 3),
        cfg.max_bytes if cfg.max_bytes is not None else -1,
        round(float(cfg.duplicate_window or 0), 3),
        cfg.num_replicas or 1,
        sources,
    )


def _backoff_handler(
    base_s: float, max_s: float
) -> Any:  # nats-py's ReconnectToServerHandler: (servers, info) -> (server | None, delay)
    def handler(servers: list[Server], info: dict[str, Any]) -> tuple[Server | None, float]:
        server = min(servers, key=lambda s: s.reconnects)
        delay = min(max_s, base_s * (2 ** min(server.reconnects, 16)))
        return server, delay * random.uniform(0.8, 1.2)  # jitter, not security

    return handler


async def _quiet_close(nc: Client) -> None:
    try:
        await nc.close()
    except (nats.errors.Error, OSError, asyncio.CancelledError) as exc:
        logger.debug("nats close: %s", exc)


def _url(nc: Client) -> str:
    url = nc.connected_url
    return url.netloc if url is not None else "?"
