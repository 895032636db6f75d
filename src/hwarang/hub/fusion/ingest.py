"""The ingest step: store events (idempotent on event id) and their snapshots, fuse them into incidents.

All methods are synchronous (SQLAlchemy sessions); async callers use ``asyncio.to_thread``.
Every database failure surfaces as :class:`~hwarang.hub.errors.StoreError`.
"""

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hwarang.domain import EventMessage, Incident
from hwarang.hub.errors import ConflictError, IngestError, StoreUnavailableError
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.fuser import EventFuser
from hwarang.hub.fusion.labels import CameraLabels
from hwarang.hub.fusion.regroup import RegroupParts, merge_incidents, split_incident
from hwarang.hub.fusion.rows import incident_title
from hwarang.hub.journal import Journal
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import EventRow

logger = logging.getLogger(__name__)

__all__ = ["IngestResult", "IngestService"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting one event did."""

    event_id: uuid.UUID
    duplicate: bool
    incident: Incident | None


class IngestService:
    """Ingests events into ``database``, and merges or splits incidents by hand.

    ``zone_for_sido`` maps a sido code to its exercise zone number (None: no zone recorded).
    ``labels`` names cameras in incident titles. ``fuser`` correlates events into incidents and
    rates them (:mod:`hwarang.hub.fusion.fuser`). Changed incidents go to ``journal``'s listeners.
    """

    def __init__(
        self,
        database: Database,
        journal: Journal,
        evidence: EvidenceStore,
        fuser: EventFuser,
        labels: CameraLabels,
        *,
        zone_for_sido: Callable[[str], int | None] | None = None,
    ) -> None:
        self._database = database
        self._journal = journal
        self._evidence = evidence
        self._fuser = fuser
        self._labels = labels
        self._zone_for_sido = zone_for_sido
        self._regroup = RegroupParts(database, journal, fuser, labels)

    def event(self, message: EventMessage) -> IngestResult:
        """Store the event (idempotent on event id) and its snapshot; create or update its incident.

        Raises IngestError when the snapshot is inconsistent, StoreError when storage fails.
        """
        try:
            result = self.batch([message])[0]
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
            self._evidence.put_verified(message.snapshot_jpeg, ref.sha256)
        except OSError as exc:
            # Disk full, read-only or missing volume: the store's fault, not the event's (retry).
            raise StoreUnavailableError(
                f"event {message.event.id}: cannot write snapshot {ref.sha256} "
                f"under {self._evidence.root}: {exc}"
            ) from exc

    def batch(self, messages: Sequence[EventMessage]) -> list[IngestResult]:
        """Ingest a batch in one transaction; one result per message, in order.

        Idempotent like :meth:`event`: an event already stored, or repeated earlier in the batch,
        is a duplicate. Each fresh event opens an incident or joins one (fusion); every incident the
        batch opened or changed gets a new sequence number, in the order the batch first touched it,
        and listeners hear of each once, after the commit. All or nothing: raises IngestError (a bad
        snapshot), StoreError, or ConflictError when another writer stored one of the events
        meanwhile (retry one by one with :meth:`event`).
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
            with self._database.session(write=True) as session:
                stored = set(session.scalars(select(EventRow.id).where(EventRow.id.in_(list(first)))))
                fresh = [message for event_id, message in first.items() if event_id not in stored]
                fused = self._fuser.ingest(
                    session,
                    fresh,
                    now,
                    next_seq=self._journal.next_seq,
                    labels=self._labels.of(session, {m.event.camera_id for m in fresh}) if fresh else {},
                    zone_for_sido=self._zone_for_sido,
                    title=incident_title,
                )
        except IntegrityError as exc:
            raise ConflictError(f"batch of {len(messages)} events: stored concurrently ({exc.orig})") from exc
        self._fuser.remember(fused)
        by_event = dict(fused.by_event)
        results: list[IngestResult] = []
        for message in messages:
            incident = by_event.pop(message.event.id, None)
            results.append(IngestResult(message.event.id, duplicate=incident is None, incident=incident))
        if fused.changed:
            logger.debug(
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
            self._journal.notify(incident)
        return results

    def merge(
        self, target_id: uuid.UUID, source_ids: Sequence[uuid.UUID], reason: str, actor: str
    ) -> Incident:
        """Move every event of ``source_ids`` into ``target_id`` (see :mod:`hwarang.hub.fusion.regroup`)."""
        return merge_incidents(self._regroup, target_id, source_ids, reason, actor)

    def split(
        self, incident_id: uuid.UUID, event_ids: Sequence[uuid.UUID], reason: str, actor: str
    ) -> tuple[Incident, Incident]:
        """Move ``event_ids`` into a new incident; (the rest, the new one). See :mod:`.regroup`."""
        return split_incident(self._regroup, incident_id, event_ids, reason, actor)
