"""Declared conditions and the grants they open: law-gated access to municipal CCTV.

Korean law lets partner agencies, above all the military, use a local government's CCTV only in
declared situations (see docs/sharing.md). :class:`ConditionService` checks that a declaration
qualifies, opens one grant per entitled agency whose jurisdiction overlaps the declared area, and
closes the grants when the condition is lifted. Expiry needs no job: the sharing policy only uses
grants in force (``starts_at <= now < expires_at`` and not revoked). Expiries are *recorded*
lazily: every declare, lift and listing first runs :meth:`ConditionService.sweep_expired`, which
closes the grants past their expiry (``revoked_at = expires_at``, the moment they stopped working)
and audits ``grant.expired`` once per grant.
"""

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.domain import Agency, AgencyKind, ConditionKind, DeclaredCondition, Grant, User
from hwarang.hub.errors import ConflictError, HubError, NotFoundError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.identity.agencies import AgencyStore, grant_from_row
from hwarang.hub.sharing.access_changes import AccessChanges
from hwarang.hub.sharing.condition_policy import ConditionPolicy, approves
from hwarang.hub.sharing.policy import (
    AccessDeniedError,
    Action,
    area_intersection,
    areas_overlap,
    in_area,
    role_allows,
)
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import ConditionRow, GrantRow

logger = logging.getLogger(__name__)

MAX_CONDITION_DURATION = timedelta(days=30)
"""Longest a declaration may run; a longer situation is declared again (and audited again)."""
SITUATION_SUBTYPES = frozenset({"gap", "eul", "byeong"})
"""Integrated-defense situation types 갑종, 을종, 병종."""
EXERCISE_SUBTYPES = frozenset({"integrated", "ulchi", "combined"})
"""Integrated-defense exercise, Ulchi (government) exercise, combined ROK-US exercise."""
QUALIFYING_ALERT_LEVELS = frozenset({1, 2})
"""경계태세 1급 and 2급; level 3 does not open access."""
GRANT_PERMISSIONS: tuple[str, ...] = (Action.INCIDENT_VIEW.value, Action.EVIDENCE_VIEW.value)
"""What a grant allows: view the area's incidents (list, live stream) and their evidence."""

_MIL = AgencyKind.MILITARY
GRANTEE_KINDS: dict[ConditionKind, frozenset[AgencyKind]] = {
    ConditionKind.INTEGRATED_DEFENSE_SITUATION: frozenset({_MIL, AgencyKind.POLICE, AgencyKind.COAST_GUARD}),
    ConditionKind.ALERT_LEVEL: frozenset({_MIL}),
    ConditionKind.EXERCISE: frozenset({_MIL, AgencyKind.POLICE, AgencyKind.COAST_GUARD}),
    ConditionKind.TERROR: frozenset({_MIL, AgencyKind.POLICE, AgencyKind.INTELLIGENCE}),
    ConditionKind.DISASTER: frozenset({_MIL, AgencyKind.POLICE, AgencyKind.FIRE, AgencyKind.COAST_GUARD}),
}
"""Which agency kinds each condition opens access for (owners need no grant).

The integrated-defense forces (military, police, coast guard) under a situation or an exercise;
the military alone under a raised alert level; intelligence joins for terrorism (counter-terrorism
coordination) and fire for disasters.
"""

_AREA = re.compile(r"^(\d{2}|\d{5})$")
ConditionStatus = Literal["active", "awaiting_approval", "rejected", "lifted", "expired"]
Clock = Callable[[], datetime]


class InvalidConditionError(HubError, ValueError):
    """A declaration that does not qualify under the law or is malformed (HTTP 422)."""


def condition_from_row(row: ConditionRow) -> DeclaredCondition:
    """The domain condition of a row."""
    return DeclaredCondition(
        id=row.id,
        kind=ConditionKind(row.kind),
        subtype=row.subtype,
        alert_level=row.alert_level,
        area_codes=tuple(row.area_codes),
        reason=row.reason,
        declared_by=row.declared_by,
        declared_at=row.declared_at,
        expires_at=row.expires_at,
        lifted_at=row.lifted_at,
        lifted_by=row.lifted_by,
    )


def awaiting_approval(grant: Grant) -> bool:
    """True for a grant still waiting for the local government's approval (it never started)."""
    return grant.starts_at >= grant.expires_at


def condition_status(
    condition: DeclaredCondition, now: datetime, grants: Sequence[Grant] = ()
) -> ConditionStatus:
    """``rejected`` (lifted before approval), ``lifted``, ``expired``, ``awaiting_approval`` (its
    grants wait for the local government's authority), else ``active``."""
    waiting = bool(grants) and all(awaiting_approval(g) for g in grants)
    if condition.lifted_at is not None and condition.lifted_at <= now:
        return "rejected" if waiting else "lifted"
    if now >= condition.expires_at:
        return "expired"
    return "awaiting_approval" if waiting else "active"


GrantStatus = Literal["active", "pending", "revoked", "expired"]


def grant_status(grant: Grant, now: datetime) -> GrantStatus:
    """``revoked`` (condition lifted), ``expired`` (ran out), ``pending`` (not started) or ``active``."""
    if grant.revoked_at is not None and grant.revoked_at < grant.expires_at and grant.revoked_at <= now:
        return "revoked"
    if now >= grant.expires_at:
        return "expired"
    return "active" if grant.starts_at <= now else "pending"


def check_qualifies(kind: ConditionKind, subtype: str | None, alert_level: int | None) -> None:
    """Raise InvalidConditionError unless the declaration is one the law recognises."""
    if kind is ConditionKind.ALERT_LEVEL:
        if alert_level not in QUALIFYING_ALERT_LEVELS:
            raise InvalidConditionError(
                f"alert_level condition needs alert_level 1 or 2 (경계태세 1급/2급), got {alert_level}"
            )
        return
    if alert_level is not None:
        raise InvalidConditionError(f"alert_level is only for alert_level conditions, not {kind}")
    allowed = {
        ConditionKind.INTEGRATED_DEFENSE_SITUATION: SITUATION_SUBTYPES,
        ConditionKind.EXERCISE: EXERCISE_SUBTYPES,
    }.get(kind)
    if allowed is not None and subtype not in allowed:
        raise InvalidConditionError(
            f"{kind} condition needs subtype one of {', '.join(sorted(allowed))}, got {subtype!r}"
        )


def normalise_areas(area_codes: Iterable[str]) -> tuple[str, ...]:
    """Validated area codes, sorted, without duplicates or codes inside another listed area."""
    codes = sorted(set(area_codes))
    if not codes:
        raise InvalidConditionError("a condition needs at least one area code")
    bad = [code for code in codes if not _AREA.fullmatch(code)]
    if bad:
        raise InvalidConditionError(f"area codes must be 2-digit sido or 5-digit sigungu codes, got {bad}")
    return tuple(c for c in codes if not any(o != c and in_area(c, o) for o in codes))


def grants_for(
    condition: DeclaredCondition,
    agencies: Iterable[Agency],
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    *,
    kinds: Iterable[AgencyKind] | None = None,
    awaiting: bool = False,
) -> list[Grant]:
    """The grants ``condition`` opens: one per entitled agency (``kinds``, default
    :data:`GRANTEE_KINDS`) overlapping its area, in that overlap. ``awaiting``: they wait for
    approval (they start at their expiry, so are never in force, until approved)."""
    kinds = frozenset(GRANTEE_KINDS[condition.kind] if kinds is None else kinds)
    out: list[Grant] = []
    for agency in agencies:
        if agency.kind not in kinds:
            continue
        overlap = sorted(
            {
                area_intersection(code, agency.jurisdiction_code) or code
                for code in condition.area_codes
                if areas_overlap(code, agency.jurisdiction_code)
            }
        )
        if not overlap:
            continue
        out.append(
            Grant(
                id=new_id(),
                condition_id=condition.id,
                agency_kind=agency.kind,
                agency_code=agency.code,
                area_codes=tuple(overlap),
                permissions=GRANT_PERMISSIONS,
                starts_at=condition.expires_at if awaiting else condition.declared_at,
                expires_at=condition.expires_at,
            )
        )
    return out


def _grant_row(grant: Grant) -> GrantRow:
    return GrantRow(
        id=grant.id,
        condition_id=grant.condition_id,
        agency_kind=None if grant.agency_kind is None else grant.agency_kind.value,
        agency_code=grant.agency_code,
        area_codes=list(grant.area_codes),
        permissions=list(grant.permissions),
        starts_at=grant.starts_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
    )


def _require_authority(actor: User, area_codes: Sequence[str], verb: str) -> None:
    decision = role_allows(actor, Action.CONDITION_DECLARE)
    if not decision.allowed:
        raise AccessDeniedError(f"{actor.username} may not {verb} conditions: {decision.reason}")
    outside = [code for code in area_codes if not in_area(code, actor.jurisdiction_code)]
    if outside:
        raise AccessDeniedError(
            f"{actor.username} may not {verb} a condition on {', '.join(outside)}: "
            f"outside their jurisdiction {actor.jurisdiction_code}"
        )


class ConditionService:
    """Declares and lifts conditions, opens and revokes their grants, and audits all of it."""

    def __init__(
        self,
        database: Database,
        agencies: AgencyStore,
        *,
        clock: Clock | None = None,
        policy: ConditionPolicy | None = None,
        changes: AccessChanges | None = None,
    ) -> None:
        self._db = database
        self._agencies = agencies
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self.policy = policy or ConditionPolicy.load()
        self.changes = changes or AccessChanges()

    def now(self) -> datetime:
        """The service's clock (UTC)."""
        return self._clock()

    def declare(
        self,
        *,
        kind: ConditionKind,
        subtype: str | None,
        alert_level: int | None,
        area_codes: Iterable[str],
        reason: str,
        expires_at: datetime,
        actor: User,
    ) -> tuple[DeclaredCondition, list[Grant]]:
        """Declare a condition and open its grants; InvalidConditionError / AccessDeniedError otherwise.

        The condition policy says who may declare ``kind`` and which agencies it opens grants for;
        when it asks for the local government's approval, the grants wait (``awaiting_approval``)
        until :meth:`approve`, unless the declarer is that authority.
        """
        now = self._clock()
        areas = normalise_areas(area_codes)
        _require_authority(actor, areas, "declare")
        actor_kind = self._agencies.kind_of(actor.agency_code)
        self.policy.check_declarer(actor, actor_kind, kind)
        rule = self.policy.rule(kind)
        check_qualifies(kind, subtype, alert_level)
        if not reason.strip():
            raise InvalidConditionError("a condition needs a reason (what was declared, by whom, reference)")
        if expires_at.tzinfo is None:
            raise InvalidConditionError("expires_at needs a time zone")
        longest = min(MAX_CONDITION_DURATION, rule.max_duration)
        if not now < expires_at <= now + longest:
            raise InvalidConditionError(
                f"expires_at must be after now and at most {_span(longest)} ahead for {kind.value} "
                f"(now {now.isoformat()}), got {expires_at.isoformat()}"
            )
        condition = DeclaredCondition(
            id=uuid.uuid4(),
            kind=kind,
            subtype=subtype,
            alert_level=alert_level,
            area_codes=areas,
            reason=reason.strip(),
            declared_by=actor.username,
            declared_at=now,
            expires_at=expires_at,
        )
        awaiting = rule.approval == "local_government" and not approves(actor, actor_kind, areas)
        grants = grants_for(condition, self._agencies.list(), kinds=rule.grantee_kinds, awaiting=awaiting)
        self.sweep_expired()
        with self._db.session(write=True) as session:
            session.add(self._condition_row(condition))
            session.flush()
            detail = {
                "kind": kind.value,
                "subtype": subtype,
                "alert_level": alert_level,
                "areas": list(areas),
                "expires_at": expires_at.isoformat(),
                "reason": condition.reason,
                "approval": "awaiting" if awaiting and grants else "not needed",
            }
            add_audit(session, actor.username, "condition.declare", f"condition:{condition.id}", detail)
            for grant in grants:
                session.add(_grant_row(grant))
                action = "grant.awaiting_approval" if awaiting else "grant.open"
                add_audit(session, actor.username, action, f"grant:{grant.id}", _grant_detail(grant))
        logger.info(
            "condition %s (%s %s) declared by %s on %s: %s grant(s)",
            condition.id,
            kind.value,
            subtype or alert_level or "",
            actor.username,
            ",".join(areas),
            len(grants),
        )
        if grants:
            self.changes.notify("condition.declare")
        return condition, grants

    def lift(self, condition_id: uuid.UUID, actor: User) -> DeclaredCondition:
        """Lift a condition and revoke its open grants (NotFoundError, ConflictError when not active)."""
        self.sweep_expired()
        now = self._clock()
        with self._db.session(write=True) as session:
            row = session.get(ConditionRow, condition_id)
            if row is None:
                raise NotFoundError(f"condition {condition_id} not found")
            _require_authority(actor, row.area_codes, "lift")
            grants = session.scalars(select(GrantRow).where(GrantRow.condition_id == condition_id))
            status = condition_status(condition_from_row(row), now, [grant_from_row(g) for g in grants])
            if status not in ("active", "awaiting_approval"):
                raise ConflictError(f"condition {condition_id} is already {status}")
            row.lifted_at, row.lifted_by = now, actor.username
            open_grants = session.scalars(
                select(GrantRow).where(GrantRow.condition_id == condition_id, GrantRow.revoked_at.is_(None))
            )
            for grant in open_grants:
                grant.revoked_at = now
                detail = {"condition_id": str(condition_id), "agency_code": grant.agency_code}
                add_audit(session, actor.username, "grant.revoke", f"grant:{grant.id}", detail)
            add_audit(session, actor.username, "condition.lift", f"condition:{condition_id}", {})
            lifted = condition_from_row(row)
        logger.info("condition %s lifted by %s", condition_id, actor.username)
        self.changes.notify("condition.lift")
        return lifted

    def approve(self, condition_id: uuid.UUID, actor: User) -> DeclaredCondition:
        """The local government's authority approves: the waiting grants open now (audited
        ``condition.approve`` and ``grant.open``). NotFoundError; ConflictError when nothing waits;
        AccessDeniedError when ``actor`` is not the authority over every declared area."""
        return self._decide_approval(condition_id, actor, approve=True, reason="")

    def reject(self, condition_id: uuid.UUID, actor: User, reason: str) -> DeclaredCondition:
        """The local government's authority refuses: the condition ends and its waiting grants are
        revoked unused (audited ``condition.reject`` with the reason)."""
        if not reason.strip():
            raise InvalidConditionError("rejecting a condition needs a reason")
        return self._decide_approval(condition_id, actor, approve=False, reason=reason.strip())

    def _decide_approval(
        self, condition_id: uuid.UUID, actor: User, *, approve: bool, reason: str
    ) -> DeclaredCondition:
        self.sweep_expired()
        now = self._clock()
        verb = "approve" if approve else "reject"
        with self._db.session(write=True) as session:
            row = session.get(ConditionRow, condition_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"condition {condition_id} not found")
            grants = list(session.scalars(select(GrantRow).where(GrantRow.condition_id == condition_id)))
            status = condition_status(condition_from_row(row), now, [grant_from_row(g) for g in grants])
            if status != "awaiting_approval":
                raise ConflictError(f"condition {condition_id} is {status}; nothing to {verb}")
            areas = tuple(row.area_codes)
            if not approves(actor, self._agencies.kind_of(actor.agency_code), areas):
                raise AccessDeniedError(
                    f"only the head of the local government covering {', '.join(areas)} may {verb} "
                    "this condition"
                )
            for grant in grants:
                if approve:
                    grant.starts_at = now
                    add_audit(session, actor.username, "grant.open", f"grant:{grant.id}", {"approved": True})
                else:
                    grant.revoked_at = now
                    detail = {"condition_id": str(condition_id), "agency_code": grant.agency_code}
                    add_audit(session, actor.username, "grant.revoke", f"grant:{grant.id}", detail)
            if not approve:
                row.lifted_at, row.lifted_by = now, actor.username
            detail = {"reason": reason} if reason else {}
            add_audit(session, actor.username, f"condition.{verb}", f"condition:{condition_id}", detail)
            decided = condition_from_row(row)
        logger.info("condition %s %sd by %s", condition_id, verb, actor.username)
        self.changes.notify(f"condition.{verb}")
        return decided

    def get(self, condition_id: uuid.UUID) -> DeclaredCondition | None:
        """The condition, or None."""
        with self._db.session() as session:
            row = session.get(ConditionRow, condition_id)
            return None if row is None else condition_from_row(row)

    def list_conditions(self, *, active_only: bool = False, limit: int = 200) -> list[DeclaredCondition]:
        """Conditions, newest declaration first; only those in force with ``active_only``."""
        self.sweep_expired()
        now = self._clock()
        stmt = select(ConditionRow)
        if active_only:
            stmt = stmt.where(ConditionRow.lifted_at.is_(None), ConditionRow.expires_at > now)
        stmt = stmt.order_by(ConditionRow.declared_at.desc()).limit(limit)
        with self._db.session() as session:
            return [condition_from_row(r) for r in session.scalars(stmt)]

    def active(self) -> list[DeclaredCondition]:
        """Conditions in force now."""
        return self.list_conditions(active_only=True)

    def grants(
        self, *, condition_id: uuid.UUID | None = None, active_only: bool = False, limit: int = 500
    ) -> list[Grant]:
        """Grants, newest first; of one condition and/or only those in force."""
        self.sweep_expired()
        now = self._clock()
        stmt = select(GrantRow)
        if condition_id is not None:
            stmt = stmt.where(GrantRow.condition_id == condition_id)
        if active_only:
            stmt = stmt.where(
                GrantRow.starts_at <= now, GrantRow.expires_at > now, GrantRow.revoked_at.is_(None)
            )
        stmt = stmt.order_by(GrantRow.starts_at.desc(), GrantRow.id).limit(limit)
        with self._db.session() as session:
            return [grant_from_row(r) for r in session.scalars(stmt)]

    def sweep_expired(self) -> int:
        """Close and audit (``grant.expired``) the grants past their expiry; returns how many."""
        now = self._clock()
        due = (GrantRow.expires_at <= now, GrantRow.revoked_at.is_(None))
        with self._db.session() as session:  # a cheap read first: most calls find nothing to do
            if session.scalar(select(GrantRow.id).where(*due).limit(1)) is None:
                return 0
        with self._db.session(write=True) as session:
            closed = self._close_expired(session, list(session.scalars(select(GrantRow).where(*due))))
        if closed:
            self.changes.notify("grant.expired")
        return closed

    @staticmethod
    def _close_expired(session: Session, rows: list[GrantRow]) -> int:
        for row in rows:
            row.revoked_at = row.expires_at
            detail = {
                "condition_id": str(row.condition_id),
                "agency_code": row.agency_code,
                "expired_at": row.expires_at.isoformat(),
            }
            add_audit(session, "system:conditions", "grant.expired", f"grant:{row.id}", detail)
        if rows:
            logger.info("%s grant(s) expired", len(rows))
        return len(rows)

    @staticmethod
    def _condition_row(condition: DeclaredCondition) -> ConditionRow:
        return ConditionRow(
            id=condition.id,
            kind=condition.kind.value,
            subtype=condition.subtype,
            alert_level=condition.alert_level,
            area_codes=list(condition.area_codes),
            reason=condition.reason,
            declared_by=condition.declared_by,
            declared_at=condition.declared_at,
            expires_at=condition.expires_at,
        )


def _span(duration: timedelta) -> str:
    hours = int(duration.total_seconds() // 3600)
    return f"{hours // 24} days" if hours % 24 == 0 else f"{hours} hours"


def _grant_detail(grant: Grant) -> dict[str, object]:
    return {
        "condition_id": str(grant.condition_id),
        "agency_code": grant.agency_code,
        "areas": list(grant.area_codes),
        "permissions": list(grant.permissions),
        "expires_at": grant.expires_at.isoformat(),
    }
