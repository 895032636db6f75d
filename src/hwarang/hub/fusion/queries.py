"""Reading incidents and events: by seq, by place (near a point, inside a polygon), by id."""

import uuid

from sqlalchemy import func, select

from hwarang.domain import Event, GeoPoint, Incident
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import event_from_row, incidents_from_rows
from hwarang.hub.store.models import HUB_STATE_ID, EventRow, HubStateRow, IncidentRow
from hwarang.hub.store.spatial import lonlat_polygon, near_rows, within_rows

__all__ = ["IncidentQueries", "check_limit"]


class IncidentQueries:
    """Read-only queries over the incidents and events of ``database``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def recent(
        self, *, limit: int = 200, after_seq: int = 0, include_exercise: bool = False
    ) -> list[Incident]:
        """Incidents with ``seq > after_seq``, newest first, at most ``limit``."""
        check_limit(limit)
        stmt = select(IncidentRow).where(IncidentRow.seq > after_seq)
        if not include_exercise:
            stmt = stmt.where(IncidentRow.exercise.is_(False))
        stmt = stmt.order_by(IncidentRow.seq.desc()).limit(limit)
        with self._database.session() as session:
            return incidents_from_rows(session, list(session.scalars(stmt)))

    def near(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        *,
        limit: int = 200,
        after_seq: int = 0,
        include_exercise: bool = False,
    ) -> list[Incident]:
        """Incidents within ``radius_m`` metres (great circle) of ``lat``/``lon``, newest first.

        Filters as :meth:`recent`; in PostGIS when :attr:`Database.postgis`, else portably.
        """
        check_limit(limit)
        center, postgis = GeoPoint(lat=lat, lon=lon), self._database.postgis
        with self._database.session() as session:
            rows = near_rows(
                session,
                center,
                radius_m,
                postgis=postgis,
                limit=limit,
                after_seq=after_seq,
                include_exercise=include_exercise,
            )
            return incidents_from_rows(session, rows)

    def within(
        self,
        polygon_lonlat: list[tuple[float, float]],
        *,
        limit: int = 200,
        after_seq: int = 0,
        include_exercise: bool = False,
    ) -> list[Incident]:
        """Incidents strictly inside the polygon of ``(lon, lat)`` vertices, newest first (as above)."""
        check_limit(limit)
        polygon, postgis = lonlat_polygon(polygon_lonlat), self._database.postgis
        with self._database.session() as session:
            rows = within_rows(
                session,
                polygon,
                postgis=postgis,
                limit=limit,
                after_seq=after_seq,
                include_exercise=include_exercise,
            )
            return incidents_from_rows(session, rows)

    def get(self, incident_id: uuid.UUID) -> Incident | None:
        """The incident, or None when it does not exist."""
        with self._database.session() as session:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                return None
            return incidents_from_rows(session, [row])[0]

    def events(self, *, limit: int = 200, camera_id: str | None = None) -> list[Event]:
        """Events, most recent ``occurred_at`` first, optionally of one camera."""
        check_limit(limit)
        stmt = select(EventRow)
        if camera_id is not None:
            stmt = stmt.where(EventRow.camera_id == camera_id)
        stmt = stmt.order_by(EventRow.occurred_at.desc(), EventRow.id).limit(limit)
        with self._database.session() as session:
            return [event_from_row(r) for r in session.scalars(stmt)]

    def event(self, event_id: uuid.UUID) -> Event | None:
        """The event, or None when it was never ingested."""
        with self._database.session() as session:
            row = session.get(EventRow, event_id)
            return None if row is None else event_from_row(row)

    def health(self) -> dict[str, int]:
        """Counters: ``events``, ``incidents``, ``last_seq``."""
        with self._database.session() as session:
            events = session.scalar(select(func.count()).select_from(EventRow)) or 0
            incidents = session.scalar(select(func.count()).select_from(IncidentRow)) or 0
            last_seq = session.scalar(select(HubStateRow.last_seq).where(HubStateRow.id == HUB_STATE_ID)) or 0
        return {"events": int(events), "incidents": int(incidents), "last_seq": int(last_seq)}


def check_limit(limit: int) -> None:
    """ValueError unless ``limit`` is at least 1."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
