"""Drone and robot tracks: the latest report and a bounded history per track, in memory.

Reports of one track (``<source>:<track_id>``) are kept in time order; a report not newer than the
track's latest is counted but does not move the track (datagrams may arrive out of order, and a
client may post a batch again). A
report without a speed gets the speed between its track's last two points. A track is *stale* when
nothing was heard for ``stale_after_s``; tracks silent for ``forget_after_s`` are dropped.

Remote ID snapshots (``hwarang.interop.remote_id_state.RemoteIdState``) become reports through
:func:`report_from_remote_id`, which reads them through the :class:`RemoteIdSnapshot` protocol
(the hub does not import ``interop``).
"""

import math
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from hwarang.domain import DroneReport, DroneSource, DroneTrack, GeoPoint
from hwarang.domain.drone import MAX_TRACK_HISTORY, TrackPoint
from hwarang.geo.geodesy import haversine_m

__all__ = [
    "DroneTracker",
    "RemoteIdSnapshot",
    "report_from_remote_id",
]

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RemoteIdSnapshot(Protocol):
    """What the adapter reads from a Remote ID state snapshot (``RemoteIdState``)."""

    @property
    def uas_id(self) -> str | None: ...
    @property
    def ua_type(self) -> object: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def alt_geo_m(self) -> float | None: ...
    @property
    def alt_baro_m(self) -> float | None: ...
    @property
    def height_m(self) -> float | None: ...
    @property
    def speed_ms(self) -> float | None: ...
    @property
    def direction_deg(self) -> float | None: ...
    @property
    def vert_speed_ms(self) -> float | None: ...
    @property
    def operator_lat(self) -> float | None: ...
    @property
    def operator_lon(self) -> float | None: ...
    @property
    def operator_alt_m(self) -> float | None: ...
    @property
    def operator_id(self) -> str | None: ...
    @property
    def self_id(self) -> str | None: ...
    @property
    def classification(self) -> object: ...
    @property
    def received_at(self) -> datetime: ...


UA_TYPES = (
    "none",
    "aeroplane",
    "helicopter_or_multirotor",
    "gyroplane",
    "hybrid_lift",
    "ornithopter",
    "glider",
    "kite",
    "free_balloon",
    "captive_balloon",
    "airship",
    "free_fall_parachute",
    "rocket",
    "tethered_powered_aircraft",
    "ground_obstacle",
    "other",
)
"""OpenDroneID UA types by their number (ASTM F3411 / opendroneid-core-c ``ODID_uatype_t``)."""


def _ua_type(value: object) -> str | None:
    if isinstance(value, int) and 0 <= value < len(UA_TYPES):
        return None if value == 0 else UA_TYPES[value]
    return _label(value)


def _label(value: object) -> str | None:
    """An enum member as its lower-case name, anything else as text; None stays None."""
    if value is None:
        return None
    name = getattr(value, "name", None)
    text = name.lower() if isinstance(name, str) else str(value)
    return text[:64] or None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> str:
    """Radio text without control characters (a broadcast may carry any byte)."""
    return _CONTROL.sub("", str(text))


def report_from_remote_id(state: RemoteIdSnapshot, *, receiver_id: str | None = None) -> DroneReport | None:
    """The report of a Remote ID snapshot; None until it has both an id and a position.

    The altitude is the geodetic one, else the barometric one. The report's time is when the
    snapshot was received (Remote ID timestamps count only tenths of seconds within the hour).
    """
    uas_id = printable(state.uas_id or "").strip()
    lat, lon = _finite(state.lat), _finite(state.lon)
    if not uas_id or lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0.0 and lon == 0.0:  # OpenDroneID's "position unknown"
        return None
    operator = None
    op_lat, op_lon = _finite(state.operator_lat), _finite(state.operator_lon)
    if op_lat is not None and op_lon is not None and (op_lat, op_lon) != (0.0, 0.0):
        operator = GeoPoint(lat=op_lat, lon=op_lon)
    speed = _finite(state.speed_ms)
    heading = _finite(state.direction_deg)
    alt = _finite(state.alt_geo_m)
    return DroneReport(
        source=DroneSource.REMOTE_ID,
        track_id=uas_id[:64],
        lat=lat,
        lon=lon,
        alt_m=alt if alt is not None else _finite(state.alt_baro_m),
        height_m=_finite(state.height_m),
        speed_ms=None if speed is None or speed < 0 else speed,
        heading_deg=None if heading is None or not 0 <= heading < 360 else heading,
        vert_speed_ms=_finite(state.vert_speed_ms),
        time=state.received_at,
        operator=operator,
        operator_alt_m=_finite(state.operator_alt_m) if operator is not None else None,
        operator_id=printable(state.operator_id or "")[:64] or None,
        ua_type=_ua_type(state.ua_type),
        classification=_label(state.classification),
        self_id=printable(state.self_id or "")[:64] or None,
        receiver_id=receiver_id,
    )


@dataclass
class _Track:
    latest: DroneReport
    first_seen: datetime
    history: deque[TrackPoint]
    reports: int = 1
    heard_at: datetime = field(default_factory=_utcnow)


def _point(report: DroneReport) -> TrackPoint:
    return TrackPoint(
        lat=report.lat, lon=report.lon, alt_m=report.alt_m, speed_ms=report.speed_ms, time=report.time
    )


def _with_speed(report: DroneReport, previous: DroneReport) -> DroneReport:
    """``report`` with a speed computed from ``previous`` when it carries none."""
    if report.speed_ms is not None:
        return report
    seconds = (report.time - previous.time).total_seconds()
    if seconds <= 0.0:
        return report
    return report.model_copy(update={"speed_ms": haversine_m(previous.position, report.position) / seconds})


class DroneTracker:
    """Thread-safe tracks of every drone and robot heard, each with a bounded history."""

    def __init__(
        self,
        *,
        history: int = MAX_TRACK_HISTORY,
        stale_after_s: float = 30.0,
        forget_after_s: float = 3600.0,
        clock: Clock = _utcnow,
    ) -> None:
        if not 1 <= history <= MAX_TRACK_HISTORY:
            raise ValueError(f"history must be 1..{MAX_TRACK_HISTORY} points, got {history}")
        if not 0.0 < stale_after_s <= forget_after_s:
            raise ValueError(
                f"need 0 < stale_after_s <= forget_after_s, got {stale_after_s}, {forget_after_s}"
            )
        self.history = history
        self.stale_after_s = stale_after_s
        self.forget_after_s = forget_after_s
        self._clock = clock
        self._tracks: dict[str, _Track] = {}
        self._lock = threading.Lock()
        self.out_of_order = 0

    def update(self, report: DroneReport) -> tuple[DroneReport, bool]:
        """Take in one report; the report as kept (speed filled in), and False when it was out of order."""
        now = self._clock()
        with self._lock:
            track = self._tracks.get(report.key)
            if track is None:
                history = deque([_point(report)], maxlen=self.history)
                self._tracks[report.key] = _Track(report, report.time, history, heard_at=now)
                return report, True
            track.reports += 1
            track.heard_at = now
            if report.time <= track.latest.time:  # out of order, or the same report again
                self.out_of_order += 1
                return report, False
            report = _with_speed(report, track.latest)
            track.latest = report
            track.history.append(_point(report))
            return report, True

    def restore(self, tracks: Iterable[DroneTrack]) -> None:
        """Take in tracks kept elsewhere (the store, after a restart); newer state here wins."""
        with self._lock:
            for kept in tracks:
                if kept.key in self._tracks:
                    continue
                history = deque(kept.history or (_point(kept.latest),), maxlen=self.history)
                heard = kept.latest.time
                self._tracks[kept.key] = _Track(kept.latest, kept.first_seen, history, kept.reports, heard)

    def get(self, key: str) -> DroneTrack | None:
        """The track, or None when it is unknown (or forgotten)."""
        now = self._clock()
        with self._lock:
            track = self._tracks.get(key)
            return None if track is None else self._snapshot(key, track, now)

    def tracks(self, *, include_stale: bool = True) -> list[DroneTrack]:
        """Every track, most recently heard first; forgets the long-silent ones."""
        now = self._clock()
        forget = now - timedelta(seconds=self.forget_after_s)
        with self._lock:
            for key in [k for k, t in self._tracks.items() if t.heard_at < forget]:
                del self._tracks[key]
            found = [self._snapshot(key, track, now) for key, track in self._tracks.items()]
        if not include_stale:
            found = [track for track in found if not track.stale]
        return sorted(found, key=lambda track: track.latest.time, reverse=True)

    def near(
        self,
        point: GeoPoint,
        at: datetime,
        *,
        radius_m: float,
        window_s: float,
        sources: frozenset[DroneSource] = frozenset({DroneSource.REMOTE_ID}),
    ) -> list[tuple[DroneTrack, float]]:
        """Tracks of ``sources`` that were within ``radius_m`` of ``point`` within ``window_s`` of ``at``.

        Each with its closest distance then, nearest first.
        """
        start, end = at - timedelta(seconds=window_s), at + timedelta(seconds=window_s)
        now = self._clock()
        found: list[tuple[DroneTrack, float]] = []
        with self._lock:
            for key, track in self._tracks.items():
                if track.latest.source not in sources or track.first_seen > end:
                    continue
                best = math.inf
                for p in reversed(track.history):
                    if p.time < start:
                        break
                    if p.time <= end:
                        best = min(best, haversine_m(point, GeoPoint(lat=p.lat, lon=p.lon)))
                if best <= radius_m:
                    found.append((self._snapshot(key, track, now), best))
        return sorted(found, key=lambda item: item[1])

    def _snapshot(self, key: str, track: _Track, now: datetime) -> DroneTrack:
        stale = (now - track.heard_at).total_seconds() > self.stale_after_s
        return DroneTrack.model_construct(  # parts already validated; history can hold 600 points
            key=key,
            latest=track.latest,
            history=tuple(track.history),
            first_seen=track.first_seen,
            reports=track.reports,
            stale=stale,
        )
