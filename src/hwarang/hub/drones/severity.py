"""Drones in the severity decision: geofence events and visual drones judged against Remote ID.

:class:`DroneSeverity` is a :data:`~hwarang.hub.fusion.severity.SeverityHook`:

- a geofence event (rule name ``geofence:<site>``) gets at least its site's severity;
- a visual detection of class ``aircraft`` (the edge's class for aircraft and drones) at a known
  position is **cooperative** when a Remote ID (or own MAVLink) track was within ``radius_m`` of it
  within ``window_s`` seconds: the nearest such track is associated with it (its uas_id is named in
  the incident history and recorded as a ``visual_cooperative`` alert) and the severity is kept;
- otherwise it is **non-cooperative**: severity rises one level (at least ``high``), the history
  says why, and a ``visual_non_cooperative`` alert is recorded.

The hook runs inside the ingest transaction, so it only reads the in-memory tracks and hands its
alerts to ``record`` (which writes them after the commit).
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace

from hwarang.domain import (
    DroneAlert,
    DroneSource,
    Event,
    GeoPoint,
    ObjectClass,
    Severity,
    SeverityReason,
    SeverityReasonCode,
)
from hwarang.domain.drone import DroneAlertKind
from hwarang.geo.geofences import GeofenceSet
from hwarang.hub.drones.geofences import GEOFENCE_RULE_PREFIX
from hwarang.hub.drones.tracks import DroneTracker
from hwarang.hub.fusion.severity import SEVERITY_ORDER, SeverityDecision, max_severity

logger = logging.getLogger(__name__)

__all__ = ["NON_COOPERATIVE_RULE", "DroneSeverity", "raise_one_level"]

NON_COOPERATIVE_RULE = "drone-non-cooperative"
COOPERATIVE_RULE = "drone-cooperative"
_NAMESPACE = uuid.UUID("4a0e8f7d-2c51-5b8e-9f3a-766973756164")
_BY_ORDER = {order: severity for severity, order in SEVERITY_ORDER.items()}

AlertSink = Callable[[DroneAlert], None]


def raise_one_level(severity: Severity, at_least: Severity = Severity.HIGH) -> Severity:
    """One level more urgent (critical stays critical), and at least ``at_least``."""
    higher = _BY_ORDER[min(SEVERITY_ORDER[severity] + 1, SEVERITY_ORDER[Severity.CRITICAL])]
    return max_severity(higher, at_least)


class DroneSeverity:
    """The severity hook of the drone features (see the module docstring)."""

    def __init__(
        self,
        tracker: DroneTracker,
        fences: GeofenceSet,
        record: AlertSink,
        *,
        radius_m: float = 300.0,
        window_s: float = 5.0,
    ) -> None:
        self.tracker = tracker
        self.fences = fences
        self.record = record
        self.radius_m = radius_m
        self.window_s = window_s

    def __call__(
        self, event: Event, position: GeoPoint | None, decision: SeverityDecision
    ) -> SeverityDecision:
        try:
            if event.rule_name.startswith(GEOFENCE_RULE_PREFIX):
                return self._geofence(event, decision)
            if event.object_class is ObjectClass.AIRCRAFT and position is not None:
                return self._visual(event, position, decision)
        except Exception:  # a hook must never fail an ingest batch
            logger.exception("drone severity hook failed on event %s; decision unchanged", event.id)
        return decision

    def _geofence(self, event: Event, decision: SeverityDecision) -> SeverityDecision:
        site = self.fences.get(event.rule_name.removeprefix(GEOFENCE_RULE_PREFIX))
        if site is None:
            return decision
        severity = max_severity(decision.severity, site.severity)
        reason = SeverityReason(code=SeverityReasonCode.GEOFENCE, params={"site": site.id})
        return replace(
            decision,
            severity=severity,
            rules=(*decision.rules, f"geofence {site.id}"),
            reasons=(*decision.reasons, reason),
        )

    def _visual(self, event: Event, position: GeoPoint, decision: SeverityDecision) -> SeverityDecision:
        near = self.tracker.near(
            position,
            event.occurred_at,
            radius_m=self.radius_m,
            window_s=self.window_s,
            sources=frozenset({DroneSource.REMOTE_ID, DroneSource.MAVLINK}),
        )
        if near:
            track, distance = near[0]
            report = track.latest
            reason = f"{COOPERATIVE_RULE}: {report.source.value} {report.track_id} {distance:.0f} m away"
            self.record(self._alert(event, position, decision.severity, track.key, report.track_id, distance))
            code = SeverityReason(
                code=SeverityReasonCode.DRONE_COOPERATIVE,
                params={"track": report.track_id, "distance_m": f"{distance:.0f}"},
            )
            return replace(decision, rules=(*decision.rules, reason), reasons=(*decision.reasons, code))
        severity = raise_one_level(decision.severity)
        reason = (
            f"{NON_COOPERATIVE_RULE}: no Remote ID within {self.radius_m:.0f} m and {self.window_s:.0f} s"
        )
        self.record(self._alert(event, position, severity, None, None, None))
        code = SeverityReason(
            code=SeverityReasonCode.DRONE_NON_COOPERATIVE,
            params={"radius_m": f"{self.radius_m:.0f}", "window_s": f"{self.window_s:.0f}"},
        )
        return replace(
            decision, severity=severity, rules=(*decision.rules, reason), reasons=(*decision.reasons, code)
        )

    def _alert(
        self,
        event: Event,
        position: GeoPoint,
        severity: Severity,
        track_key: str | None,
        uas_id: str | None,
        distance: float | None,
    ) -> DroneAlert:
        cooperative = uas_id is not None
        kind = DroneAlertKind.VISUAL_COOPERATIVE if cooperative else DroneAlertKind.VISUAL_NON_COOPERATIVE
        if cooperative:
            description = (
                f"Visual drone at camera {event.camera_id} associated with Remote ID {uas_id} "
                f"({distance or 0.0:.0f} m away)"
            )
        else:
            description = (
                f"Non-cooperative drone at camera {event.camera_id}: no Remote ID within "
                f"{self.radius_m:.0f} m and {self.window_s:.0f} s"
            )
        return DroneAlert(
            id=uuid.uuid5(_NAMESPACE, str(event.id)),
            kind=kind,
            time=event.occurred_at,
            track_key=track_key,
            uas_id=uas_id,
            event_id=event.id,
            severity=severity,
            position=position,
            distance_m=None if distance is None else round(distance, 1),
            description=description,
        )
