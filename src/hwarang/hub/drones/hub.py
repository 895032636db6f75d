"""The hub's drone features in one object: tracks, geofence watch, fusion hook, store, bus hand-off.

:meth:`DroneHub.apply` takes reports (Remote ID from the API or a UDP receiver, MAVLink telemetry
of our own units) in time order: each updates its track; a non-friendly report entering a site
raises a hub event (ingested at once, so its incident exists when ``apply`` returns) and an alert;
leaving records an alert. The latest state of a track is written at most every
``persist_interval_s`` (and at once when it crosses a fence); every report is handed to
``publisher`` (the runtime puts it on the bus).

One DroneHub serves one hub: :class:`~hwarang.hub.service.HubService` builds it on first use and
joins its severity hook to fusion and :meth:`DroneHub.on_incident` to the journal's listeners.
"""

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hwarang.domain import DroneAlert, DroneReport, DroneTrack, Incident
from hwarang.geo.geofences import GeofenceSet, load_geofences
from hwarang.hub.drones.config import DroneConfig
from hwarang.hub.drones.geofences import (
    CameraSpot,
    GeofenceCrossing,
    GeofenceWatch,
    geofence_alert,
    geofence_event,
    nearest_cameras,
)
from hwarang.hub.drones.ownership import FriendlyOwners
from hwarang.hub.drones.severity import DroneSeverity
from hwarang.hub.drones.store import DroneStore, TrackState
from hwarang.hub.drones.tracks import DroneTracker
from hwarang.hub.fusion.ingest import IngestService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import CameraRow

logger = logging.getLogger(__name__)

__all__ = ["ApplyResult", "DroneHub"]

CAMERA_REFRESH_S = 60.0
PENDING_ALERTS = 10_000
PERSISTED_KEYS = 10_000

Publisher = Callable[[DroneReport], None]


@dataclass(slots=True)
class ApplyResult:
    """What applying a batch of reports did."""

    accepted: int = 0
    out_of_order: int = 0
    alerts: list[DroneAlert] = field(default_factory=list)
    event_ids: list[uuid.UUID] = field(default_factory=list)


class DroneHub:
    """Tracks, geofences and drone alerts of one hub (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        ingest: IngestService,
        config: DroneConfig | None = None,
        *,
        fences: GeofenceSet | None = None,
    ) -> None:
        self.config = config or DroneConfig()
        self._database = database
        self._ingest = ingest
        self.fences = fences if fences is not None else load_geofences(self.config.geofences_file)
        self.tracker = DroneTracker(
            history=self.config.history_points,
            stale_after_s=self.config.stale_after_s,
            forget_after_s=self.config.forget_after_s,
        )
        self.watch = GeofenceWatch(self.fences)
        self.store = DroneStore(database)
        self.owners = FriendlyOwners(self.config.friendly_units)
        self.publisher: Publisher | None = None
        self.publish_failures = 0
        self._apply_lock = threading.Lock()
        self._pending: OrderedDict[uuid.UUID, DroneAlert] = OrderedDict()
        self._pending_lock = threading.Lock()
        self._persisted: dict[str, float] = {}
        self._cameras: list[CameraSpot] = []
        self._cameras_expire = 0.0
        self.severity = DroneSeverity(
            self.tracker,
            self.fences,
            self._hold_alert,
            radius_m=self.config.fusion_radius_m,
            window_s=self.config.fusion_window_s,
        )
        self._restore()

    # -- reports ----------------------------------------------------------------------------

    def apply(self, reports: Sequence[DroneReport]) -> ApplyResult:
        """Take in reports (sorted by time here); raises StoreError/IngestError when storing fails."""
        result = ApplyResult()
        with self._apply_lock:
            crossings: list[GeofenceCrossing] = []
            touched: dict[str, DroneReport] = {}
            inside_before: dict[str, list[str]] = {}
            for report in sorted(reports, key=lambda r: r.time):
                kept, fresh = self.tracker.update(report)
                if not fresh:
                    result.out_of_order += 1
                    continue
                result.accepted += 1
                touched[kept.key] = kept
                inside_before.setdefault(kept.key, self.watch.inside(kept.key))
                crossings.extend(self.watch.observe(kept))
            try:
                alerts = self._raise(crossings, result)
                self._persist(touched, {c.report.key for c in crossings}, alerts)
            except Exception:
                for key, inside in inside_before.items():  # so the next report crosses again, not never
                    self.watch.restore(key, inside)
                raise
        result.alerts = alerts
        self._publish(touched.values())
        return result

    def _raise(self, crossings: Sequence[GeofenceCrossing], result: ApplyResult) -> list[DroneAlert]:
        """Ingest the events of the entering crossings; the alerts of every crossing."""
        if not crossings:
            return []
        cameras = self.cameras()
        k = self.config.nearest_cameras
        planned = []
        for crossing in crossings:
            report = crossing.report
            near = nearest_cameras(cameras, report.lat, report.lon, k)
            message = None
            if crossing.kind == "enter":
                message = geofence_event(crossing, near[0][0] if near else None)
            planned.append((crossing, near, message))
        messages = [message for _, _, message in planned if message is not None]
        ingested = {r.event_id: r for r in self._ingest.batch(messages)} if messages else {}
        alerts = []
        for crossing, near, message in planned:
            event_id = None if message is None else message.event.id
            alert = geofence_alert(crossing, near, event_id)
            outcome = ingested.get(event_id) if event_id is not None else None
            if outcome is not None and outcome.incident is not None:
                alert = alert.model_copy(
                    update={"incident_id": outcome.incident.id, "severity": outcome.incident.severity}
                )
            if event_id is not None:
                result.event_ids.append(event_id)
            alerts.append(alert)
            logger.info("drone alert %s: %s", alert.kind.value, alert.description)
        return alerts

    def _persist(self, touched: dict[str, DroneReport], crossed: set[str], alerts: list[DroneAlert]) -> None:
        now = time.monotonic()
        interval = self.config.persist_interval_s
        states = []
        for key, report in touched.items():
            if key not in crossed and now - self._persisted.get(key, -interval - 1.0) < interval:
                continue
            track = self.tracker.get(key)
            if track is None:
                continue
            states.append(TrackState(report, track.first_seen, track.reports, tuple(self.watch.inside(key))))
            self._persisted[key] = now
        self.store.save(states, alerts)
        if len(self._persisted) > PERSISTED_KEYS:
            live = {track.key for track in self.tracker.tracks()}
            self._persisted = {key: at for key, at in self._persisted.items() if key in live}

    def _publish(self, reports: Iterable[DroneReport]) -> None:
        publisher = self.publisher
        if publisher is None:
            return
        for report in reports:
            try:
                publisher(report)
            except Exception:
                self.publish_failures += 1
                logger.exception("drone report of %s not handed to the bus", report.key)

    # -- reads ------------------------------------------------------------------------------

    def tracks(self, *, include_stale: bool = True) -> list[DroneTrack]:
        """Current tracks, most recent first."""
        return self.tracker.tracks(include_stale=include_stale)

    def alerts(
        self,
        *,
        limit: int = 200,
        uas_id: str | None = None,
        event_id: uuid.UUID | None = None,
        incident_id: uuid.UUID | None = None,
    ) -> list[DroneAlert]:
        """Stored alerts, newest first, optionally of one drone, event or incident."""
        return self.store.alerts(limit=limit, uas_id=uas_id, event_id=event_id, incident_id=incident_id)

    def cameras(self) -> list[CameraSpot]:
        """Camera positions for suggestions, re-read at most every ``CAMERA_REFRESH_S``."""
        if time.monotonic() < self._cameras_expire:
            return self._cameras
        stmt = select(CameraRow.id, CameraRow.name, CameraRow.center_id, CameraRow.lat, CameraRow.lon)
        with self._database.session() as session:
            spots = [CameraSpot(*row) for row in session.execute(stmt)]
        self._cameras, self._cameras_expire = spots, time.monotonic() + CAMERA_REFRESH_S
        return spots

    def forget_cameras(self) -> None:
        """Re-read the cameras at the next crossing."""
        self._cameras_expire = 0.0

    # -- visual alerts (from the severity hook, stored once their incident is known) ------------

    def _hold_alert(self, alert: DroneAlert) -> None:
        if alert.event_id is None:
            return
        with self._pending_lock:
            self._pending[alert.event_id] = alert
            while len(self._pending) > PENDING_ALERTS:
                self._pending.popitem(last=False)

    def on_incident(self, incident: Incident) -> None:
        """Link the held visual alerts of ``incident``'s events to it (a journal listener)."""
        with self._pending_lock:
            if not self._pending:
                return
            found = [self._pending.pop(e) for e in incident.event_ids if e in self._pending]
        if found:
            linked = [alert.model_copy(update={"incident_id": incident.id}) for alert in found]
            self.store.save([], linked)

    def _restore(self) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self.config.forget_after_s)
        kept = self.store.tracks_since(since)
        self.tracker.restore(track for track, _ in kept)
        for track, inside in kept:
            self.watch.restore(track.key, inside)
        if kept:
            logger.info("%s drone tracks restored from the store", len(kept))
