"""Restart stream sources promptly when a leaf-node domain becomes reachable again.

A JetStream stream that sources from another domain retries a failed source with a growing
back-off (10 s, 20 s, ... up to 2 min in nats-server 2.10+), so after a link cut or a hub restart
the copy can lag for minutes although the link is back. :class:`SourceHealer` probes each source's
domain (``$JS.<domain>.API.INFO``) and, when a domain that was unreachable (or not yet seen since
start) answers, removes that source and adds it back. The server then resumes from the last
sequence it holds from that source, so nothing is copied twice (msg ids de-duplicate as well).
After the hub's own server was unreachable (its connection reconnected, or the stream could not
be read) every domain counts as not yet seen, so each source is restarted once it answers.
Run it in the hub process next to the ingest worker (and on an edge for its commands stream).
"""

import asyncio
import contextlib
import logging

import nats.errors
import nats.js.errors
from nats.js import api

from hwarang.bus.base import BusError
from hwarang.bus.nats import NatsBus

logger = logging.getLogger(__name__)

_API_PREFIX = "$JS."
_API_SUFFIX = ".API"


def _domain_of(source: api.StreamSource) -> str | None:
    prefix = source.external.api if source.external else None
    if prefix and prefix.startswith(_API_PREFIX) and prefix.endswith(_API_SUFFIX):
        return prefix[len(_API_PREFIX) : -len(_API_SUFFIX)]
    return None


def _key(source: api.StreamSource) -> tuple[str, str, str]:
    api_prefix = source.external.api if source.external else ""
    return (source.name, api_prefix, source.filter_subject or "")


class SourceHealer:
    """Watches the cross-domain sources of one stream and restarts those whose domain came back."""

    def __init__(
        self, bus: NatsBus, stream: str, *, interval_s: float = 2.0, probe_timeout_s: float = 1.0
    ) -> None:
        self._bus = bus
        self._stream = stream
        self.interval_s = interval_s
        self._probe_timeout_s = probe_timeout_s
        self._reachable: dict[str, bool] = {}
        self._desired: dict[tuple[str, str, str], api.StreamSource] = {}
        self._seen_reconnects = bus.reconnects
        self.restarts = 0

    @property
    def stream(self) -> str:
        """The stream whose sources this healer watches."""
        return self._stream

    def _forget_reachability(self) -> None:
        """Treat every domain as not yet seen, so each is restarted once it answers."""
        self._reachable = dict.fromkeys(self._reachable, False)

    async def check_once(self) -> list[str]:
        """One pass: probe every source domain; restart the sources of domains that came back.

        Sources seen once are remembered: one that is missing from the stream (a restart that
        failed half-way) is added back on the next pass.
        """
        if self._bus.reconnects != self._seen_reconnects:
            # our own server came back (a hub restart): its sources back off like any other
            self._seen_reconnects = self._bus.reconnects
            self._forget_reachability()
        js = self._bus.client.jetstream()
        try:
            info = await js.stream_info(self._stream)
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            self._forget_reachability()
            raise BusError(f"stream info {self._stream} failed: {exc or type(exc).__name__}") from exc
        current = list(info.config.sources or ())
        for source in current:
            self._desired.setdefault(_key(source), source)
        missing = [s for k, s in self._desired.items() if k not in {_key(c) for c in current}]
        came_back: list[str] = []
        for source in self._desired.values():
            domain = _domain_of(source)
            if domain is None or domain in came_back:
                continue
            reachable = await self._probe(domain)
            if reachable and not self._reachable.get(domain, False):
                came_back.append(domain)
            self._reachable[domain] = reachable
        if came_back or missing:
            await self._restart(info.config, current, came_back)
        return came_back

    async def run(self, stop: asyncio.Event) -> None:
        """Check every ``interval_s`` until ``stop`` is set; errors are logged and retried."""
        while not stop.is_set():
            try:
                await self.check_once()
            except BusError as exc:
                logger.warning("stream %s: source check failed: %s", self._stream, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval_s)

    async def _probe(self, domain: str) -> bool:
        try:
            await self._bus.client.request(
                f"{_API_PREFIX}{domain}{_API_SUFFIX}.INFO", b"", timeout=self._probe_timeout_s
            )
        except (nats.errors.Error, OSError):
            return False
        return True

    async def _restart(
        self, config: api.StreamConfig, current: list[api.StreamSource], domains: list[str]
    ) -> None:
        js = self._bus.client.jetstream()
        keep = [s for s in current if _domain_of(s) not in domains]
        try:
            if len(keep) < len(current):
                await js.update_stream(config.evolve(sources=keep or None))
            await js.update_stream(config.evolve(sources=list(self._desired.values())))
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            self._reachable.update(dict.fromkeys(domains, False))  # try again on the next pass
            raise BusError(f"restart of sources {domains} on {self._stream} failed: {exc}") from exc
        self.restarts += len(domains)
        logger.info("stream %s: restarted sources from %s", self._stream, ", ".join(domains) or "-")
