"""Reads filtered by need-to-know: the incidents, events and snapshots one user may see.

Rows outside the user's jurisdiction are left out in SQL; the rest of the policy (agency, sharing,
classification, grants) runs in Python on pages of rows, newest first, until ``limit`` items are
kept or :data:`MAX_SCAN_ROWS` rows were looked at (so a list may come back short for a user who
may see little of a busy hub). Events and snapshots are evidence: they are visible when the user
may ``evidence.view`` an incident they belong to.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.domain import Event, Incident, Role, User
from hwarang.hub.evidence.origin import snapshot_holders
from hwarang.hub.sharing.policy import Action, Decision, SharingPolicy, UserScope
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import event_from_row, incident_from_row, incidents_from_rows
from hwarang.hub.store.models import EventRow, IncidentRow

MAX_SCAN_ROWS = 5000
"""Most rows one filtered list looks at."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Visible(Generic[T]):
    """What a user may see, and the grants that made any of it visible (to audit their use)."""

    items: list[T]
    grant_ids: set[uuid.UUID] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class EvidenceAccess:
    """Whether a user may see one piece of evidence, through which incident (None: none holds it)."""

    decision: Decision
    incident_id: uuid.UUID | None


def _refused(reason: str) -> Decision:
    return Decision(False, reason)


class VisibleReads:
    """Need-to-know filtered reads over the hub's store."""

    def __init__(self, database: Database, policy: SharingPolicy) -> None:
        self._db = database
        self._policy = policy

    def incidents(
        self, user: User, *, limit: int, after_seq: int = 0, include_exercise: bool = False
    ) -> Visible[Incident]:
        """Incidents with ``seq > after_seq`` the user may view, newest first, at most ``limit``."""
        scope = self._policy.scope(user)
        stmt = select(IncidentRow).where(IncidentRow.seq > after_seq)
        if not include_exercise:
            stmt = stmt.where(IncidentRow.exercise.is_(False))
        if user.jurisdiction_code is not None:
            stmt = stmt.where(IncidentRow.sigungu_code.startswith(user.jurisdiction_code))
        kept: list[Incident] = []
        grants: set[uuid.UUID] = set()
        page = min(max(limit, 100), 1000)
        before: int | None = None
        scanned = 0
        with self._db.session() as session:
            while len(kept) < limit and scanned < MAX_SCAN_ROWS:
                paged = stmt if before is None else stmt.where(IncidentRow.seq < before)
                rows = list(session.scalars(paged.order_by(IncidentRow.seq.desc()).limit(page)))
                scanned += len(rows)
                # each row becomes an Incident once (with its event ids), then the policy decides on it
                page_items = incidents_from_rows(session, rows)
                allowed = [(i, d) for i in page_items if (d := scope.decide(Action.INCIDENT_VIEW, i)).allowed]
                allowed = allowed[: limit - len(kept)]
                kept.extend(incident for incident, _ in allowed)
                grants.update(d.grant_id for _, d in allowed if d.grant_id is not None)
                if len(rows) < page:
                    break
                before = rows[-1].seq
        return Visible(kept, grants)

    def filter_incidents(
        self, user: User, incidents: Iterable[Incident], action: Action = Action.INCIDENT_VIEW
    ) -> Visible[Incident]:
        """The given incidents the user may ``action``, in order."""
        kept, grants = self._policy.visible(user, incidents, action=action)
        return Visible(kept, grants)

    def events(self, user: User, *, limit: int, camera_id: str | None = None) -> Visible[Event]:
        """Events whose incident the user may see evidence of, newest first, at most ``limit``."""
        scope = self._policy.scope(user)
        stmt = select(EventRow)
        if camera_id is not None:
            stmt = stmt.where(EventRow.camera_id == camera_id)
        if user.jurisdiction_code is not None:
            stmt = stmt.where(EventRow.sigungu_code.startswith(user.jurisdiction_code))
        stmt = stmt.order_by(EventRow.occurred_at.desc(), EventRow.id)
        kept: list[Event] = []
        grants: set[uuid.UUID] = set()
        page = min(max(limit, 100), 1000)
        with self._db.session() as session:
            for offset in range(0, MAX_SCAN_ROWS, page):
                rows = list(session.scalars(stmt.offset(offset).limit(page)))
                decisions = self._event_decisions(session, scope, rows)
                for row in rows:
                    decision = decisions[row.id]
                    if decision.allowed and len(kept) < limit:
                        kept.append(event_from_row(row))
                        if decision.grant_id is not None:
                            grants.add(decision.grant_id)
                if len(kept) >= limit or len(rows) < page:
                    break
        return Visible(kept, grants)

    def event(self, user: User, event_id: uuid.UUID) -> tuple[Event, EvidenceAccess] | None:
        """The event and whether the user may see it; None when it does not exist."""
        scope = self._policy.scope(user)
        with self._db.session() as session:
            row = session.get(EventRow, event_id)
            if row is None:
                return None
            decision = self._event_decisions(session, scope, [row])[row.id]
            return event_from_row(row), EvidenceAccess(decision, row.incident_id)

    def snapshot(self, user: User, sha256: str) -> EvidenceAccess:
        """May the user see snapshot ``sha256``? Only through an incident holding an event of the
        center the snapshot came from (:mod:`hwarang.hub.evidence.origin`); naming the hash grants nothing."""
        scope = self._policy.scope(user)
        with self._db.session() as session:
            holders = snapshot_holders(session, sha256)
            rows = []
            if holders:
                stmt = select(IncidentRow).where(IncidentRow.id.in_(holders)).order_by(IncidentRow.seq)
                rows = list(session.scalars(stmt))
        refusal = _refused("this snapshot belongs to no incident whose evidence you may see")
        for row in rows:
            decision = _decide_row(scope, row, Action.EVIDENCE_VIEW)
            if decision.allowed:
                return EvidenceAccess(decision, row.id)
        if not rows and Role.ADMIN in user.roles and user.jurisdiction_code is None:
            return EvidenceAccess(Decision(True, "nationwide administrator (snapshot of no incident)"), None)
        return EvidenceAccess(refusal, rows[0].id if rows else None)

    @staticmethod
    def _event_decisions(
        session: Session, scope: UserScope, rows: Sequence[EventRow]
    ) -> dict[uuid.UUID, Decision]:
        ids = {row.incident_id for row in rows if row.incident_id is not None}
        incidents: dict[uuid.UUID, IncidentRow] = {}
        if ids:
            query = select(IncidentRow).where(IncidentRow.id.in_(ids))
            incidents = {row.id: row for row in session.scalars(query)}
        out: dict[uuid.UUID, Decision] = {}
        for row in rows:
            incident = incidents.get(row.incident_id) if row.incident_id is not None else None
            if incident is None:
                out[row.id] = _refused(f"event {row.id} belongs to no incident")
            else:
                out[row.id] = _decide_row(scope, incident, Action.EVIDENCE_VIEW)
        return out


def _decide_row(scope: UserScope, row: IncidentRow, action: Action = Action.INCIDENT_VIEW) -> Decision:
    """Decide on a row without loading its event ids (the policy does not use them)."""
    return scope.decide(action, incident_from_row(row, ()))
