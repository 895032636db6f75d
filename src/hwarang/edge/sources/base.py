"""The frame source protocol, its counters, and the base every source plugin builds on."""

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from hwarang.domain import EventMessage
from hwarang.edge.frame import Frame

_RATE_WINDOW = 32


@dataclass(frozen=True, slots=True)
class SourceStats:
    """A snapshot of a source's counters; ``fps_in`` is the measured decode rate."""

    frames_decoded: int = 0
    frames_delivered: int = 0
    decode_errors: int = 0
    reconnects: int = 0
    last_error: str | None = None
    fps_in: float = 0.0
    first_error: str | None = None
    """The first decode error's message (where a damaged file starts to go wrong)."""


@runtime_checkable
class FrameSource(Protocol):
    """A camera: yields decoded frames until its end or ``stop()``.

    ``fps`` and ``size`` (width, height) are valid after ``open()`` or the first frame; before that
    they are ``0.0`` and ``(0, 0)``. ``stop()`` may be called from any thread.
    """

    @property
    def camera_id(self) -> str: ...
    @property
    def fps(self) -> float: ...
    @property
    def size(self) -> tuple[int, int]: ...
    @property
    def stats(self) -> SourceStats: ...

    def open(self) -> None:
        """Open the underlying stream (idempotent); raises ``SourceError`` when it cannot."""

    def frames(self) -> Iterator[Frame]:
        """Yield frames until the end of the stream or ``stop()``."""
        ...

    def stop(self) -> None:
        """Ask ``frames()`` to end promptly (thread-safe); interrupts pacing sleeps."""

    def close(self) -> None:
        """Stop and release the stream's resources (idempotent)."""


@runtime_checkable
class EventHook(Protocol):
    """An optional hook of a source: it sees (and may amend) the events found in each of its frames.

    The exercise overlay uses it to mark events on the figures it drew as exercise events; the
    camera worker calls it without knowing why.
    """

    def on_events(self, frame: Frame, messages: Sequence[EventMessage]) -> list[EventMessage]:
        """The messages to publish for ``frame``."""
        ...


class StatsRecorder:
    """Thread-safe counters behind ``SourceStats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decoded = 0
        self._delivered = 0
        self._errors = 0
        self._reconnects = 0
        self._last_error: str | None = None
        self._first_error: str | None = None
        self._decode_times: deque[float] = deque(maxlen=_RATE_WINDOW)

    def decoded(self) -> None:
        """Count one decoded frame and feed the input-rate meter."""
        with self._lock:
            self._decoded += 1
            self._decode_times.append(time.monotonic())

    def delivered(self) -> None:
        """Count one frame handed to the consumer."""
        with self._lock:
            self._delivered += 1

    def error(self, message: str) -> None:
        """Count one decode error and remember its message."""
        with self._lock:
            self._errors += 1
            self._last_error = message
            if self._first_error is None:
                self._first_error = message

    def reconnected(self) -> None:
        """Count one reconnect (or loop restart)."""
        with self._lock:
            self._reconnects += 1

    def snapshot(self) -> SourceStats:
        """The current counters."""
        with self._lock:
            times = self._decode_times
            span = times[-1] - times[0] if len(times) > 1 else 0.0
            fps_in = (len(times) - 1) / span if span > 0 else 0.0
            return SourceStats(
                frames_decoded=self._decoded,
                frames_delivered=self._delivered,
                decode_errors=self._errors,
                reconnects=self._reconnects,
                last_error=self._last_error,
                fps_in=fps_in,
                first_error=self._first_error,
            )


class Pacer:
    """Releases frames at their presentation time against a monotonic clock.

    Targets are computed from the first frame's time, so late frames never accumulate drift: the
    pacer sleeps only when ahead, and a stop event interrupts the sleep at once.
    """

    def __init__(
        self,
        stop_event: threading.Event,
        *,
        speed: float = 1.0,
        realtime: bool = True,
        start_time: datetime | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"pacing speed must be > 0, got {speed}")
        if start_time is not None and start_time.tzinfo is None:
            raise ValueError("start_time must be timezone-aware")
        self._stop = stop_event
        self._speed = speed
        self._realtime = realtime
        self._fixed_start = start_time
        self._start_mono: float | None = None
        self._start_wall = datetime.now(UTC)
        self._first_pts = 0.0

    def wait(self, pts_s: float) -> bool:
        """Sleep until ``pts_s`` is due; False when stopped meanwhile."""
        if self._start_mono is None:
            self._start_mono = time.monotonic()
            self._start_wall = datetime.now(UTC)
            self._first_pts = pts_s
        if not self._realtime:
            return not self._stop.is_set()
        due = self._start_mono + (pts_s - self._first_pts) / self._speed
        delay = due - time.monotonic()
        if delay > 0:
            return not self._stop.wait(delay)
        return not self._stop.is_set()

    def wall_time(self, pts_s: float) -> datetime:
        """UTC time of a frame: fixed start + pts when given, start + scaled pts when paced, else now."""
        if self._fixed_start is not None:
            return self._fixed_start + timedelta(seconds=pts_s)
        if not self._realtime or self._start_mono is None:
            return datetime.now(UTC)
        return self._start_wall + timedelta(seconds=(pts_s - self._first_pts) / self._speed)


class SourcePluginConfig(BaseModel, ABC):
    """Base of every source plugin's config: a ``type`` literal and a factory."""

    model_config = ConfigDict(extra="forbid")

    @abstractmethod
    def build(self, *, camera_id: str) -> FrameSource:
        """The source this config describes (no I/O until ``open()`` or ``frames()``)."""


class BaseSource(ABC):
    """Stop event, counters and identity shared by source plugins."""

    def __init__(self, camera_id: str) -> None:
        self._camera_id = camera_id
        self._stop_event = threading.Event()
        self._stats = StatsRecorder()
        self._fps = 0.0
        self._size = (0, 0)

    @property
    def camera_id(self) -> str:
        """The camera this source feeds."""
        return self._camera_id

    @property
    def stats(self) -> SourceStats:
        """A snapshot of the counters."""
        return self._stats.snapshot()

    @property
    def fps(self) -> float:
        """Frames per second of the stream (0.0 until it is open)."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the stream ((0, 0) until it is open)."""
        return self._size

    @property
    def stopped(self) -> bool:
        """True once ``stop()`` or ``close()`` was called."""
        return self._stop_event.is_set()

    def stop(self) -> None:
        """Ask ``frames()`` to end promptly (thread-safe)."""
        self._stop_event.set()

    @abstractmethod
    def open(self) -> None:
        """Open the underlying stream (idempotent)."""

    @abstractmethod
    def frames(self) -> Iterator[Frame]:
        """Yield frames until the end or ``stop()``."""

    @abstractmethod
    def close(self) -> None:
        """Stop and release resources (idempotent)."""
