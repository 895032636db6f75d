"""The hub's application service: the one object the API and the ingest loop talk to.

INTERFACE CONTRACT (filled in by the hub implementation; the API codes against these signatures).
All methods are synchronous (SQLAlchemy sessions); async callers use ``asyncio.to_thread``.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hwarang.domain import Camera, Event, EventMessage, Incident, User


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting one event did."""

    event_id: uuid.UUID
    duplicate: bool
    incident: Incident | None


IncidentListener = Callable[[Incident], None]


class HubService:
    """Persists events and incidents, authenticates users, and tells listeners about changes."""

    def ingest(self, message: EventMessage) -> IngestResult:
        """Store the event (idempotent on event id) and its snapshot; create or update its incident."""
        raise NotImplementedError

    def add_listener(self, listener: IncidentListener) -> None:
        """Call ``listener`` (from the ingesting thread) with every created or changed incident."""
        raise NotImplementedError

    def list_incidents(self, *, limit: int = 200, after_seq: int = 0, include_exercise: bool = False) -> list[Incident]:
        """Incidents with ``seq > after_seq``, newest first, at most ``limit``."""
        raise NotImplementedError

    def get_incident(self, incident_id: uuid.UUID) -> Incident | None:
        raise NotImplementedError

    def list_events(self, *, limit: int = 200, camera_id: str | None = None) -> list[Event]:
        raise NotImplementedError

    def get_event(self, event_id: uuid.UUID) -> Event | None:
        raise NotImplementedError

    def upsert_camera(self, camera: Camera) -> None:
        raise NotImplementedError

    def list_cameras(self) -> list[Camera]:
        raise NotImplementedError

    def snapshot_path(self, sha256: str) -> Path | None:
        """Path of a stored snapshot, or None when the hub does not hold it."""
        raise NotImplementedError

    def ensure_admin(self, password: str | None) -> str | None:
        """Create the ``admin`` user at first start; return the generated password if one was made."""
        raise NotImplementedError

    def authenticate(self, username: str, password: str) -> User | None:
        raise NotImplementedError

    def get_user(self, username: str) -> User | None:
        raise NotImplementedError

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest incident change."""
        raise NotImplementedError
