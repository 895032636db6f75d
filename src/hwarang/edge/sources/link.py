"""Connection state of network sources: whether they are connected, and their outages."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from hwarang.edge.sources.base import StatsRecorder

_OUTAGES_KEPT = 16


@dataclass(frozen=True, slots=True)
class Outage:
    """A time without frames: from the last frame (or the failed first attempt) to the next frame."""

    start: datetime
    end: datetime | None
    error: str | None

    @property
    def duration_s(self) -> float:
        """Length in seconds (up to now while the outage lasts)."""
        return ((self.end or datetime.now(UTC)) - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class LinkStats:
    """Connection state of a network source."""

    connected: bool = False
    outages: int = 0
    outage_total_s: float = 0.0
    last_outage: Outage | None = None
    recent_outages: tuple[Outage, ...] = ()
    connect_attempts: int = 0
    failed_attempts: int = 0
    reconnects: int = 0
    last_error: str | None = None


@runtime_checkable
class LinkReporter(Protocol):
    """A source that reports its connection state (network cameras)."""

    @property
    def link(self) -> LinkStats: ...


class LinkRecorder(StatsRecorder):
    """``StatsRecorder`` plus connection state and outages; connection errors are not decode errors."""

    def __init__(self) -> None:
        super().__init__()
        self._connected = False
        self._attempts = 0
        self._failed = 0
        self._closed_total_s = 0.0
        self._current: Outage | None = None
        self._outages: deque[Outage] = deque(maxlen=_OUTAGES_KEPT)
        self._outage_count = 0

    def attempt(self, error: str | None) -> None:
        """Count one connect attempt; ``error`` when it failed (starts an outage if none is open)."""
        with self._lock:
            self._attempts += 1
            if error is None:
                self._connected = True
                return
            self._failed += 1
        self.lost(error, since=None)

    def lost(self, error: str, since: datetime | None) -> None:
        """The stream is gone; an outage starts at ``since`` (the last frame) or now."""
        with self._lock:
            self._connected = False
            self._last_error = error
            if self._current is None:
                self._current = Outage(since or datetime.now(UTC), None, error)
                self._outage_count += 1

    def disconnected(self) -> None:
        """The source was closed on purpose: not connected, and no outage."""
        with self._lock:
            self._connected = False

    def frame_arrived(self) -> Outage | None:
        """Close the open outage, if any, and return it."""
        with self._lock:
            self._connected = True
            current, self._current = self._current, None
            if current is None:
                return None
            closed = Outage(current.start, datetime.now(UTC), current.error)
            self._outages.append(closed)
            self._closed_total_s += closed.duration_s
            return closed

    def link(self) -> LinkStats:
        """The current connection state."""
        with self._lock:
            current = self._current
            recent = (*self._outages, current) if current is not None else tuple(self._outages)
            return LinkStats(
                connected=self._connected,
                outages=self._outage_count,
                outage_total_s=self._closed_total_s + (current.duration_s if current else 0.0),
                last_outage=recent[-1] if recent else None,
                recent_outages=recent,
                connect_attempts=self._attempts,
                failed_attempts=self._failed,
                reconnects=self._reconnects,
                last_error=self._last_error,
            )
