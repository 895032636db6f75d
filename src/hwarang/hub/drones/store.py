"""Persistence of the drone features: the latest state of each track and the drone alerts.

Track history stays in memory (it is ten minutes of 1 Hz points and rebuilds from the broadcasts
within seconds); the latest state and the geofence sites a track is inside are stored so that a
restarted hub still lists its tracks and does not raise a second ``enter`` for a drone already in.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hwarang.domain import DroneAlert, DroneReport, DroneTrack
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import DroneAlertRow, DroneTrackRow

__all__ = ["DroneStore", "TrackState"]


@dataclass(frozen=True, slots=True)
class TrackState:
    """What is stored of one track."""

    report: DroneReport
    first_seen: datetime
    reports: int
    inside: tuple[str, ...]


class DroneStore:
    """Reads and writes ``drone_tracks`` and ``drone_alerts``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def save(self, states: Sequence[TrackState], alerts: Sequence[DroneAlert]) -> None:
        """Upsert track states and alerts in one transaction (alerts are idempotent on their id)."""
        if not states and not alerts:
            return
        with self.database.session(write=True) as session:
            for state in states:
                report = state.report
                session.merge(
                    DroneTrackRow(
                        key=report.key,
                        source=report.source.value,
                        track_id=report.track_id,
                        friendly=report.friendly,
                        first_seen=state.first_seen,
                        updated_at=report.time,
                        reports=state.reports,
                        report=report.model_dump(mode="json"),
                        inside=list(state.inside),
                    )
                )
            for alert in alerts:
                session.merge(
                    DroneAlertRow(
                        id=alert.id,
                        kind=alert.kind.value,
                        time=alert.time,
                        track_key=alert.track_key,
                        uas_id=alert.uas_id,
                        event_id=alert.event_id,
                        incident_id=alert.incident_id,
                        payload=alert.model_dump(mode="json"),
                    )
                )

    def tracks_since(self, since: datetime) -> list[tuple[DroneTrack, tuple[str, ...]]]:
        """Stored tracks updated at or after ``since`` with the sites they are inside."""
        stmt = select(DroneTrackRow).where(DroneTrackRow.updated_at >= since).order_by(DroneTrackRow.key)
        with self.database.session() as session:
            rows = list(session.scalars(stmt))
            found = []
            for row in rows:
                report = DroneReport.model_validate(row.report)
                track = DroneTrack(
                    key=row.key, latest=report, history=(), first_seen=row.first_seen, reports=row.reports
                )
                found.append((track, tuple(row.inside)))
        return found

    def alerts(
        self,
        *,
        limit: int = 200,
        uas_id: str | None = None,
        event_id: uuid.UUID | None = None,
        incident_id: uuid.UUID | None = None,
    ) -> list[DroneAlert]:
        """Alerts, newest first, optionally of one drone, event or incident."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        stmt = select(DroneAlertRow.payload)
        if uas_id is not None:
            stmt = stmt.where(DroneAlertRow.uas_id == uas_id)
        if event_id is not None:
            stmt = stmt.where(DroneAlertRow.event_id == event_id)
        if incident_id is not None:
            stmt = stmt.where(DroneAlertRow.incident_id == incident_id)
        stmt = stmt.order_by(DroneAlertRow.time.desc(), DroneAlertRow.id).limit(limit)
        with self.database.session() as session:
            return [DroneAlert.model_validate(payload) for payload in session.scalars(stmt)]
