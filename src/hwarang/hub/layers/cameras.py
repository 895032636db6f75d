"""The camera map layer: a GeoJSON FeatureCollection of the cameras a user may see, built once per version.

Every feature is serialised once per camera-table version and kept grouped by sigungu; a user's
layer is the join of the groups inside their jurisdiction (the rule of ``/api/v1/cameras``:
:func:`hwarang.hub.sharing.policy.in_area` on the camera's sigungu code), kept per jurisdiction.

The version is ``(number of cameras, change mark)``. Every camera write goes through
:meth:`CameraRegistry.upsert`, which audits ``camera.upsert`` in the same transaction, and
audit ids commit in order (their allocation row-locks ``hub_state`` until commit). So the layer
keeps a watermark, the newest audit id it has looked at, and each check looks only at the audit
records written since (a primary-key range: cheap however long the log, however busy the
ingest); the mark is the id of the newest camera.upsert found, or the watermark of the first
look. Writes from any process sharing the store are seen; checks run at most every
``recheck_s`` seconds, so a change shows within that delay.

Health: the hub stores no camera health. Where the edge runs in the hub's process (``hwarang
demo``), its per-camera worker reports are passed in (:func:`health_from_reports`): a camera whose
source cannot open (or is lost and not back) is ``down`` with the reason; elsewhere every camera is
``unknown``. The reason is the feature's ``health_reason``.
"""

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring as _quoted
from typing import Any, Literal

from sqlalchemy import func, select

from hwarang.geo.map_layers import LayerBody
from hwarang.hub.sharing.policy import in_area
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import AuditRow, CameraRow

CameraHealthLabel = Literal["ok", "degraded", "down", "unknown"]

_STATE_HEALTH: dict[str, CameraHealthLabel] = {
    "running": "ok",
    "retrying": "down",
    "disabled": "down",
    "failed": "down",
    "stopped": "down",
    "finished": "down",
    "starting": "unknown",
}
"""Edge camera-worker states (``hwarang.edge.health.CameraState``) as map health."""

DEFAULT_RECHECK_S = 2.0
MAX_CACHED_LAYERS = 64
"""Joined layers kept (one per jurisdiction and health snapshot); the oldest go first."""

_HEAD = '{"type":"FeatureCollection","features":['
_TAIL = "]}"


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """A camera's map health and, when it is not ``ok``, why (the edge's last error)."""

    health: CameraHealthLabel
    reason: str | None = None


def health_from_states(states: Mapping[str, str]) -> dict[str, CameraHealthLabel]:
    """Map health by camera id from edge worker states (``running`` -> ``ok``, others as mapped)."""
    return {camera_id: _STATE_HEALTH.get(state, "unknown") for camera_id, state in states.items()}


def health_from_reports(reports: Iterable[Mapping[str, object]]) -> dict[str, CameraStatus]:
    """Map health and reason by camera id from edge health reports (``CameraHealth`` as JSON).

    ``retrying`` (no frames: the source cannot open or was lost), ``failed`` and ``disabled`` are
    ``down`` with the edge's last error as the reason; ``running`` is ``ok``; ``starting`` is
    ``unknown``. (``degraded`` is for partners that report it; the edge's own states never map to it.)
    """
    found: dict[str, CameraStatus] = {}
    for report in reports:
        camera_id = report.get("camera_id")
        if not isinstance(camera_id, str):
            continue
        health = _STATE_HEALTH.get(str(report.get("state", "")), "unknown")
        error = report.get("last_error")
        reason = error if isinstance(error, str) and error else None
        found[camera_id] = CameraStatus(health, None if health == "ok" else reason)
    return found


def _status(value: "CameraHealthLabel | CameraStatus") -> CameraStatus:
    return value if isinstance(value, CameraStatus) else CameraStatus(value)


@dataclass(frozen=True, slots=True)
class _Fragment:
    """One camera's feature, split where its health goes."""

    camera_id: str
    before_health: str


def _number(value: float | None, default: float) -> str:
    return repr(float(default if value is None else value))


def _fragment(row: tuple[Any, ...]) -> _Fragment:
    """The feature of one ``_COLUMNS`` row (formatted directly: 50,000 of them are built at once)."""
    camera_id, name, center_id, sido_code, sigungu_code, lat, lon, heading_deg, fov_deg, range_m = row
    before = (
        '{"type":"Feature","geometry":{"type":"Point","coordinates":['
        f"{round(lon, 6)!r},{round(lat, 6)!r}]}},"
        f'"properties":{{"id":{_quoted(camera_id)},"name":{_quoted(name)},"center_id":{_quoted(center_id)},'
        f'"sido_code":{_quoted(sido_code)},"sigungu_code":{_quoted(sigungu_code)},'
        f'"heading_deg":{_number(heading_deg, 0.0)},"fov_deg":{_number(fov_deg, 60.0)},'
        f'"range_m":{_number(range_m, 80.0)},"health":'
    )
    return _Fragment(camera_id, before)


def _health_part(status: CameraStatus) -> str:
    """``"down","health_reason":"..."}}``: the end of a feature after ``"health":``."""
    reason = "" if status.reason is None else f',"health_reason":{_quoted(status.reason)}'
    return f'"{status.health}"{reason}}}}}'


_COLUMNS = (
    CameraRow.id,
    CameraRow.name,
    CameraRow.center_id,
    CameraRow.sido_code,
    CameraRow.sigungu_code,
    CameraRow.lat,
    CameraRow.lon,
    CameraRow.payload["heading_deg"].as_float().label("heading_deg"),
    CameraRow.payload["fov_deg"].as_float().label("fov_deg"),
    CameraRow.payload["range_m"].as_float().label("range_m"),
)
"""What the layer reads: the view geometry comes out of the JSON payload in SQL (no JSON decoding here)."""


class CameraLayer:
    """Camera features of one store, cached per camera-table version (thread-safe)."""

    def __init__(
        self,
        database: Database,
        *,
        recheck_s: float = DEFAULT_RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self.recheck_s = recheck_s
        self._clock = clock
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._watermark: int | None = None
        self._mark = 0
        self._groups: dict[str, list[_Fragment]] = {}
        self._layers: OrderedDict[tuple[Any, ...], LayerBody] = OrderedDict()
        self.builds = 0
        """How many times the features were read from the store (for tests and benchmarks)."""

    def _check_version(self) -> tuple[int, int]:
        """``(camera count, change mark)``, read at most every ``recheck_s`` seconds (under the lock)."""
        now = self._clock()
        if self._version is not None and now - self._checked_at < self.recheck_s:
            return self._version
        with self._db.session() as session:
            newest = int(session.scalar(select(func.max(AuditRow.id))) or 0)
            changed = None
            if self._watermark is not None and newest > self._watermark:
                changed = session.scalar(
                    select(func.max(AuditRow.id)).where(
                        AuditRow.id > self._watermark,
                        AuditRow.id <= newest,
                        AuditRow.action == "camera.upsert",
                    )
                )
            count = int(session.scalar(select(func.count()).select_from(CameraRow)) or 0)
        if self._watermark is None or newest < self._watermark:  # first look (or a replaced store)
            self._mark = newest
        elif changed is not None:
            self._mark = int(changed)
        self._watermark = newest
        self._checked_at = now
        return (count, self._mark)

    def layer(
        self,
        jurisdiction_code: str | None,
        health: Mapping[str, CameraHealthLabel | CameraStatus] | None = None,
    ) -> LayerBody:
        """The FeatureCollection of cameras in ``jurisdiction_code`` (None: the nation) with their health."""
        statuses = {camera_id: _status(value) for camera_id, value in (health or {}).items()}
        with self._lock:
            version = self._check_version()
            if version != self._version:
                self._groups = self._read_groups()
                self._version = version
                self._layers.clear()
            shown = sorted((k, v.health, v.reason) for k, v in statuses.items())
            digest = hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:16]
            key = (version, jurisdiction_code, digest)
            cached = self._layers.get(key)
            if cached is not None:
                self._layers.move_to_end(key)
                return cached
            built = self._join(jurisdiction_code, statuses, version, digest)
            self._layers[key] = built
            while len(self._layers) > MAX_CACHED_LAYERS:
                self._layers.popitem(last=False)
            return built

    def _read_groups(self) -> dict[str, list[_Fragment]]:
        groups: dict[str, list[_Fragment]] = {}
        with self._db.session() as session:
            for row in session.execute(select(*_COLUMNS).order_by(CameraRow.id)):
                groups.setdefault(row[4], []).append(_fragment(row))
        self.builds += 1
        return groups

    def _join(
        self,
        jurisdiction_code: str | None,
        health: Mapping[str, CameraStatus],
        version: tuple[int, int],
        digest: str,
    ) -> LayerBody:
        parts: list[str] = []
        count = 0
        unknown = _health_part(CameraStatus("unknown"))
        for code in sorted(self._groups):
            if not in_area(code, jurisdiction_code):
                continue
            for fragment in self._groups[code]:
                if count:
                    parts.append(",")
                status = health.get(fragment.camera_id)
                parts += (fragment.before_health, unknown if status is None else _health_part(status))
                count += 1
        body = (_HEAD + "".join(parts) + _TAIL).encode("utf-8")
        tag = f"{version[0]}-{version[1]}-{jurisdiction_code or 'all'}-{digest}"
        return LayerBody(body, count, f'W/"cameras-{tag}"')
