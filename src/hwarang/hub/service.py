"""The hub's application service: the one object the API and the ingest loop talk to.

All methods are synchronous (SQLAlchemy sessions); async callers use ``asyncio.to_thread``.
Every database failure surfaces as :class:`~hwarang.hub.errors.StoreError`.
"""

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hwarang.domain import (
    Camera,
    Event,
    EventMessage,
    GeoPoint,
    Incident,
    User,
)
from hwarang.hub.agencies import AgencyStore
from hwarang.hub.audit import AuditEntry, add_audit, query_audit
from hwarang.hub.audit_chain import ChainReport, ProgressCallback, verify_chain
from hwarang.hub.bulk import INGEST_ACTOR, incident_title
from hwarang.hub.conditions import ConditionService
from hwarang.hub.errors import ConflictError, IngestError, StoreError
from hwarang.hub.evidence import EvidenceStore
from hwarang.hub.fusion import FusionConfig
from hwarang.hub.fusion_ingest import EventFuser
from hwarang.hub.refresh_tokens import RefreshTokenStore
from hwarang.hub.regroup import merge_incidents, split_incident
from hwarang.hub.severity import severity_for
from hwarang.hub.sharing import SharingPolicy
from hwarang.hub.spatial import lonlat_polygon, near_rows, within_rows
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import (
    camera_from_row,
    camera_to_row,
    event_from_row,
    incidents_from_rows,
)
from hwarang.hub.store.models import HUB_STATE_ID, CameraRow, EventRow, HubStateRow, IncidentRow
from hwarang.hub.users import UserStore
from hwarang.hub.workflow import WorkflowConfig, WorkflowService

logger = logging.getLogger(__name__)

__all__ = ["INGEST_ACTOR", "HubService", "IngestResult", "incident_title", "severity_for"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting one event did."""

    event_id: uuid.UUID
    duplicate: bool
    incident: Incident | None


IncidentListener = Callable[[Incident], None]


class HubService:
    """Persists events and incidents, authenticates users, and tells listeners about changes.

    ``zone_for_sido`` maps a sido code to its exercise zone number (None: no zone recorded).
    ``camera_names`` maps a camera id to a display name for incident titles; without it the
    ``cameras`` table is consulted, and the camera id is used when no name is known.
    ``password_hasher`` overrides argon2's default parameters (tests use cheap ones).
    ``workflow`` configures :attr:`workflow` (states, tasks, escalation, attachments).
    ``fusion`` correlates events into incidents and rates them (:mod:`hwarang.hub.fusion`); without
    it every event opens its own incident with the built-in severity.
    """

    def __init__(
        self,
        database: Database,
        evidence: EvidenceStore,
        *,
        zone_for_sido: Callable[[str], int | None] | None = None,
        camera_names: Callable[[str], str | None] | None = None,
        password_hasher: PasswordHasher | None = None,
        workflow: WorkflowConfig | None = None,
        fusion: FusionConfig | None = None,
    ) -> None:
        self.database = database
        self.evidence = evidence
        self.users = UserStore(database, password_hasher)
        self.refresh_tokens = RefreshTokenStore(database)
        self.agencies = AgencyStore(database)
        self.sharing = SharingPolicy(self.agencies.kind_of, self.agencies.active_grants)
        self.workflow = WorkflowService(self, workflow)
        self.conditions = ConditionService(database, self.agencies)
        self._zone_for_sido = zone_for_sido
        self._camera_names = camera_names
        self.fuser = EventFuser(fusion)
        self._listeners: list[IncidentListener] = []
        self._listeners_lock = threading.Lock()

    # -- ingest -----------------------------------------------------------------------------

    def ingest(self, message: EventMessage) -> IngestResult:
        """Store the event (idempotent on event id) and its snapshot; create or update its incident.

        Raises IngestError when the snapshot is inconsistent, StoreError when storage fails.
        """
        try:
            result = self.ingest_many([message])[0]
        except ConflictError:
            logger.info("event %s stored concurrently by another writer; duplicate", message.event.id)
            return IngestResult(message.event.id, duplicate=True, incident=None)
        if result.duplicate:
            logger.debug("event %s already stored", message.event.id)
        return result

    def _store_snapshot(self, message: EventMessage) -> None:
        if message.snapshot_jpeg is None:
            return
        ref = message.event.snapshot
        if ref is None:
            raise IngestError(f"event {message.event.id}: snapshot bytes sent without a snapshot reference")
        try:
            self.evidence.put_verified(message.snapshot_jpeg, ref.sha256)
        except OSError as exc:
            raise StoreError(
                f"event {message.event.id}: cannot write snapshot {ref.sha256} "
                f"under {self.evidence.root}: {exc}"
            ) from exc

    def ingest_many(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        """Ingest a batch in one transaction; one result per message, in order.

        Idempotent like :meth:`ingest`: an event already stored, or repeated earlier in the batch,
        is a duplicate. Each fresh event opens an incident or joins one (fusion); every incident the
        batch opened or changed gets a new sequence number, in the order the batch first touched it,
        and listeners hear of each once, after the commit. All or nothing: raises IngestError (a bad
        snapshot), StoreError, or ConflictError when another writer stored one of the events
        meanwhile (retry one by one with :meth:`ingest`).
        """
        if not messages:
            return []
        for message in messages:
            self._store_snapshot(message)
        now = datetime.now(UTC)
        first: dict[uuid.UUID, EventMessage] = {}
        for message in messages:
            first.setdefault(message.event.id, message)
        try:
            with self.database.session(write=True) as session:
                stored = set(session.scalars(select(EventRow.id).where(EventRow.id.in_(list(first)))))
                fresh = [message for event_id, message in first.items() if event_id not in stored]
                fused = self.fuser.ingest(
                    session,
                    fresh,
                    now,
                    next_seq=self._next_seq,
                    labels=self._camera_labels(session, {m.event.camera_id for m in fresh}) if fresh else {},
                    zone_for_sido=self._zone_for_sido,
                    title=incident_title,
                )
        except IntegrityError as exc:
            raise ConflictError(f"batch of {len(messages)} events: stored concurrently ({exc.orig})") from exc
        self.fuser.remember(fused)
        by_event = dict(fused.by_event)
        results: list[IngestResult] = []
        for message in messages:
            incident = by_event.pop(message.event.id, None)
            results.append(IngestResult(message.event.id, duplicate=incident is None, incident=incident))
        if fused.changed:
            logger.info(
                "%s of %s events ingested: %s incidents opened, %s events joined one; seq %s..%s (camera %s)",
                len(fused.by_event),
                len(messages),
                fused.opened,
                fused.joined_events,
                fused.changed[0].seq,
                fused.changed[-1].seq,
                fused.changed[0].camera_id,
            )
        for incident in fused.changed:
            self._notify(incident)
        return results

    def _next_seq(self, session: Session, count: int = 1) -> int:
        """Allocate ``count`` sequence numbers; returns the last one."""
        # UPDATE ... RETURNING row-locks hub_state until commit, so concurrent writers queue up.
        stmt = (
            update(HubStateRow)
            .where(HubStateRow.id == HUB_STATE_ID)
            .values(last_seq=HubStateRow.last_seq + count)
            .returning(HubStateRow.last_seq)
            .execution_options(synchronize_session=False)
        )
        seq = session.execute(stmt).scalar_one_or_none()
        if seq is None:
            raise StoreError(f"hub_state row missing in {self.database.masked_url!r}: run migrations first")
        return int(seq)

    def _camera_labels(self, session: Session, camera_ids: set[str]) -> dict[str, str]:
        if self._camera_names is not None:
            names = {camera_id: self._camera_names(camera_id) for camera_id in camera_ids}
        else:
            stmt = select(CameraRow.id, CameraRow.name).where(CameraRow.id.in_(sorted(camera_ids)))
            names = {camera_id: name for camera_id, name in session.execute(stmt)}
        return {camera_id: names.get(camera_id) or camera_id for camera_id in camera_ids}

    # -- listeners --------------------------------------------------------------------------

    def add_listener(self, listener: IncidentListener) -> None:
        """Call ``listener`` (from the ingesting thread) with every created or changed incident."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def _notify(self, incident: Incident) -> None:
        with self._listeners_lock:
            listeners = tuple(self._listeners)
        for listener in listeners:
            try:
                listener(incident)
            except Exception:
                logger.exception(
                    "incident listener %r failed on incident %s (seq %s)", listener, incident.id, incident.seq
                )

    # -- fusion by hand ---------------------------------------------------------------------

    def merge_incidents(
        self, target_id: uuid.UUID, source_ids: Sequence[uuid.UUID], reason: str, actor: str
    ) -> Incident:
        """Move every event of ``source_ids`` into ``target_id`` (see :mod:`hwarang.hub.regroup`)."""
        return merge_incidents(self, target_id, source_ids, reason, actor)

    def split_incident(
        self, incident_id: uuid.UUID, event_ids: Sequence[uuid.UUID], reason: str, actor: str
    ) -> tuple[Incident, Incident]:
        """Move ``event_ids`` into a new incident; (the rest, the new one). See :mod:`hwarang.hub.regroup`."""
        return split_incident(self, incident_id, event_ids, reason, actor)

    # -- incidents and events ---------------------------------------------------------------

    def list_incidents(
        self, *, limit: int = 200, after_seq: int = 0, include_exercise: bool = False
    ) -> list[Incident]:
        """Incidents with ``seq > after_seq``, newest first, at most ``limit``."""
        _check_limit(limit)
        stmt = select(IncidentRow).where(IncidentRow.seq > after_seq)
        if not include_exercise:
            stmt = stmt.where(IncidentRow.exercise.is_(False))
        stmt = stmt.order_by(IncidentRow.seq.desc()).limit(limit)
        with self.database.session() as session:
            return incidents_from_rows(session, list(session.scalars(stmt)))

    def incidents_near(
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

        Filters as :meth:`list_incidents`; in PostGIS when :attr:`Database.postgis`, else portably.
        """
        _check_limit(limit)
        center, postgis = GeoPoint(lat=lat, lon=lon), self.database.postgis
        with self.database.session() as session:
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

    def incidents_within(
        self,
        polygon_lonlat: list[tuple[float, float]],
        *,
        limit: int = 200,
        after_seq: int = 0,
        include_exercise: bool = False,
    ) -> list[Incident]:
        """Incidents strictly inside the polygon of ``(lon, lat)`` vertices, newest first (as above)."""
        _check_limit(limit)
        polygon, postgis = lonlat_polygon(polygon_lonlat), self.database.postgis
        with self.database.session() as session:
            rows = within_rows(
                session,
                polygon,
                postgis=postgis,
                limit=limit,
                after_seq=after_seq,
                include_exercise=include_exercise,
            )
            return incidents_from_rows(session, rows)

    def get_incident(self, incident_id: uuid.UUID) -> Incident | None:
        """The incident, or None when it does not exist."""
        with self.database.session() as session:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                return None
            return incidents_from_rows(session, [row])[0]

    def list_events(self, *, limit: int = 200, camera_id: str | None = None) -> list[Event]:
        """Events, most recent ``occurred_at`` first, optionally of one camera."""
        _check_limit(limit)
        stmt = select(EventRow)
        if camera_id is not None:
            stmt = stmt.where(EventRow.camera_id == camera_id)
        stmt = stmt.order_by(EventRow.occurred_at.desc(), EventRow.id).limit(limit)
        with self.database.session() as session:
            return [event_from_row(r) for r in session.scalars(stmt)]

    def get_event(self, event_id: uuid.UUID) -> Event | None:
        """The event, or None when it was never ingested."""
        with self.database.session() as session:
            row = session.get(EventRow, event_id)
            return None if row is None else event_from_row(row)

    # -- cameras and evidence ---------------------------------------------------------------

    def upsert_camera(self, camera: Camera, *, actor: str = "system") -> None:
        """Insert or replace a camera (audited as ``camera.upsert``)."""
        with self.database.session(write=True) as session:
            session.merge(camera_to_row(camera))
            add_audit(session, actor, "camera.upsert", camera.id, {"center_id": camera.center_id})
        self.fuser.forget_cameras()

    def list_cameras(self) -> list[Camera]:
        """Every known camera, by id."""
        with self.database.session() as session:
            return [camera_from_row(r) for r in session.scalars(select(CameraRow).order_by(CameraRow.id))]

    def snapshot_path(self, sha256: str) -> Path | None:
        """Path of a stored snapshot, or None when the hub does not hold it."""
        return self.evidence.path(sha256)

    # -- users ------------------------------------------------------------------------------

    def ensure_admin(self, password: str | None) -> str | None:
        """Create the ``admin`` user (and the default agencies) at first start.

        Returns the generated password if one was made.
        """
        self.agencies.ensure_defaults()
        return self.users.ensure_admin(password)

    def create_user(self, user: User, password: str, *, actor: str = "system") -> None:
        """Create a user (ConflictError when the name is taken)."""
        self.users.create(user, password, actor=actor)

    def set_user_disabled(self, username: str, disabled: bool, *, actor: str = "system") -> bool:
        """Disable or enable a user; False when there is no such user."""
        return self.users.set_disabled(username, disabled, actor=actor)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password is right and the account is enabled, else None."""
        return self.users.authenticate(username, password)

    def get_user(self, username: str) -> User | None:
        """The enabled user, or None when there is no such user or it is disabled.

        Callers that re-check a session token use this, so disabling a user locks them out.
        """
        return self.users.get(username)

    # -- audit and health -------------------------------------------------------------------

    def audit(self, actor: str, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        """Record something that changed no table (a login, an evidence view)."""
        with self.database.session(write=True) as session:
            add_audit(session, actor, action, target, detail)

    def list_audit(
        self,
        limit: int = 100,
        *,
        before_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        """Audit records, newest first, filtered as :func:`hwarang.hub.audit.query_audit` says."""
        _check_limit(limit)
        with self.database.session() as session:
            return query_audit(
                session, limit=limit, before_id=before_id, actor=actor, action=action, target=target
            )

    def verify_audit(self, progress: ProgressCallback | None = None) -> ChainReport:
        """Walk the audit trail's hash chain; the report names the first bad record."""
        return verify_chain(self.database, progress=progress)

    def health(self) -> dict[str, int]:
        """Counters: ``events``, ``incidents``, ``last_seq``."""
        with self.database.session() as session:
            events = session.scalar(select(func.count()).select_from(EventRow)) or 0
            incidents = session.scalar(select(func.count()).select_from(IncidentRow)) or 0
            last_seq = session.scalar(select(HubStateRow.last_seq).where(HubStateRow.id == HUB_STATE_ID)) or 0
        return {"events": int(events), "incidents": int(incidents), "last_seq": int(last_seq)}

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest incident change."""
        with self.database.session() as session:
            value = session.scalar(select(HubStateRow.last_seq).where(HubStateRow.id == HUB_STATE_ID))
        return int(value or 0)


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
