"""Explicit incident shares: the owning center shares one incident with an agency (by code or
kind), with a reason, until an expiry, and may revoke it. Each step is audited, written to the
incident's timeline and pushed live (the incident gets a new seq, so the agency's open pages see it
appear or disappear).

A share lets the agency *see* the incident like ``Incident.shared_with`` does; evidence of
municipal CCTV still needs a condition for military and intelligence users (the law, not the
center, opens it).
"""

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from hwarang.domain import AgencyKind, Incident, IncidentShare, User
from hwarang.hub.errors import ConflictError, HubError, NotFoundError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.identity.agencies import AgencyStore
from hwarang.hub.journal import Journal
from hwarang.hub.sharing.access_changes import AccessChanges
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentShareRow
from hwarang.hub.workflow.records import add_history, incident_of, lock_incident, renumber

logger = logging.getLogger(__name__)

MAX_SHARE_DURATION = timedelta(days=30)
"""Longest one share may run; share again to extend it (audited again)."""


class InvalidShareError(HubError, ValueError):
    """A share that cannot be made as asked (HTTP 422); the message says why."""


def share_from_row(row: IncidentShareRow) -> IncidentShare:
    """The domain share of a row."""
    return IncidentShare(
        id=row.id,
        incident_id=row.incident_id,
        agency_kind=None if row.agency_kind is None else AgencyKind(row.agency_kind),
        agency_code=row.agency_code,
        reason=row.reason,
        shared_by=row.shared_by,
        shared_at=row.shared_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


class ShareService:
    """Creates, revokes and looks up explicit shares."""

    def __init__(
        self,
        database: Database,
        journal: Journal,
        agencies: AgencyStore,
        *,
        clock: Callable[[], datetime] | None = None,
        changes: AccessChanges | None = None,
    ) -> None:
        self._db = database
        self._journal = journal
        self._agencies = agencies
        self._clock = clock or (lambda: datetime.now(UTC))
        self.changes = changes or AccessChanges()

    def share(
        self,
        incident_id: uuid.UUID,
        actor: User,
        *,
        agency_code: str | None,
        agency_kind: AgencyKind | None,
        reason: str,
        expires_at: datetime,
    ) -> IncidentShare:
        """Share the incident until ``expires_at`` (InvalidShareError, NotFoundError otherwise).

        The caller checks that ``actor`` may share it (the owning center: ``incident.share``).
        """
        now = self._clock()
        if (agency_code is None) == (agency_kind is None):
            raise InvalidShareError("name exactly one of agency_code and agency_kind")
        if agency_code is not None and self._agencies.get(agency_code) is None:
            raise InvalidShareError(f"agency {agency_code!r} is not registered")
        if not reason.strip():
            raise InvalidShareError("a share needs a reason")
        if expires_at.tzinfo is None or not now < expires_at <= now + MAX_SHARE_DURATION:
            raise InvalidShareError(
                f"expires_at must be after now and at most {MAX_SHARE_DURATION.days} days ahead "
                f"(now {now.isoformat()})"
            )
        share = IncidentShare(
            id=uuid.uuid4(),
            incident_id=incident_id,
            agency_code=agency_code,
            agency_kind=agency_kind,
            reason=reason.strip(),
            shared_by=actor.username,
            shared_at=now,
            expires_at=expires_at,
        )
        detail = {
            "share_id": str(share.id),
            "agency_code": agency_code,
            "agency_kind": None if agency_kind is None else agency_kind.value,
            "reason": share.reason,
            "expires_at": expires_at.isoformat(),
        }
        with self._db.session(write=True) as session:
            row = lock_incident(session, incident_id)
            session.add(_share_row(share))
            add_history(session, incident_id, actor.username, "share", now, detail=detail)
            add_audit(session, actor.username, "incident.share", f"incident:{incident_id}", detail, at=now)
            renumber(self._journal, session, row, now)
            incident = incident_of(session, row)
        self.changes.notify("share")
        self._journal.notify(incident)
        logger.info(
            "incident %s shared with %s by %s", incident_id, agency_code or agency_kind, actor.username
        )
        return share

    def revoke(self, incident_id: uuid.UUID, share_id: uuid.UUID, actor: User) -> IncidentShare:
        """End a share now (NotFoundError; ConflictError when it already ended)."""
        now = self._clock()
        incident: Incident
        with self._db.session(write=True) as session:
            row = lock_incident(session, incident_id)
            share = session.get(IncidentShareRow, share_id, with_for_update=True)
            if share is None or share.incident_id != incident_id:
                raise NotFoundError(f"share {share_id} of incident {incident_id} not found")
            if not share_from_row(share).active(now):
                raise ConflictError(f"share {share_id} already ended")
            share.revoked_at, share.revoked_by = now, actor.username
            detail = {
                "share_id": str(share_id),
                "agency_code": share.agency_code,
                "agency_kind": share.agency_kind,
            }
            add_history(session, incident_id, actor.username, "share.revoke", now, detail=detail)
            add_audit(
                session, actor.username, "incident.share_revoke", f"incident:{incident_id}", detail, at=now
            )
            renumber(self._journal, session, row, now)
            incident = incident_of(session, row)
            revoked = share_from_row(share)
        self.changes.notify("share.revoke")
        self._journal.notify(incident)
        return revoked

    def of_incident(self, incident_id: uuid.UUID) -> list[IncidentShare]:
        """The incident's shares, newest first."""
        stmt = select(IncidentShareRow).where(IncidentShareRow.incident_id == incident_id)
        with self._db.session() as session:
            rows = session.scalars(stmt.order_by(IncidentShareRow.shared_at.desc()))
            return [share_from_row(r) for r in rows]

    def in_force_for(
        self, agency_code: str, kind: AgencyKind | None, now: datetime
    ) -> Mapping[uuid.UUID, datetime]:
        """Incidents shared with the agency (its code or kind) at ``now``, and until when."""
        who = [IncidentShareRow.agency_code == agency_code]
        if kind is not None:
            who.append(IncidentShareRow.agency_kind == kind.value)
        stmt = select(IncidentShareRow).where(
            or_(*who),
            IncidentShareRow.shared_at <= now,
            IncidentShareRow.expires_at > now,
            or_(IncidentShareRow.revoked_at.is_(None), IncidentShareRow.revoked_at > now),
        )
        until: dict[uuid.UUID, datetime] = {}
        with self._db.session() as session:
            for row in session.scalars(stmt):
                ends = row.expires_at if row.revoked_at is None else min(row.expires_at, row.revoked_at)
                until[row.incident_id] = max(until.get(row.incident_id, ends), ends)
        return until


def _share_row(share: IncidentShare) -> IncidentShareRow:
    return IncidentShareRow(
        id=share.id,
        incident_id=share.incident_id,
        agency_kind=None if share.agency_kind is None else share.agency_kind.value,
        agency_code=share.agency_code,
        reason=share.reason,
        shared_by=share.shared_by,
        shared_at=share.shared_at,
        expires_at=share.expires_at,
    )
