"""Need-to-know: which user may see and do what, on which incident.

A decision combines four checks, every one of which must pass (deny by default):

1. **Role**: the action is among those the user's roles allow (:data:`ROLE_ACTIONS`).
2. **Jurisdiction**: the incident lies in the user's jurisdiction (nation, sido or sigungu).
3. **Classification**: the user's clearance is at least the incident's classification.
4. **Agency**: owner agencies (the local government's control center, the integrated-defense
   headquarters, the interior ministry) see their jurisdiction's incidents; other agencies see an
   incident only when it is shared with them (``Incident.shared_with`` holds agency kinds or codes)
   or a grant opened by a declared condition covers its area. Evidence (snapshots, clips, event
   imagery, packages) of municipal CCTV is stricter: military and intelligence users need a grant.

Administrators pass checks 3 and 4 but not 2: the built-in ``admin`` is nationwide, a regional
administrator sees and manages only their region. Evaluators read exercise incidents of their
jurisdiction whatever their agency. Grants come from declared conditions
(:mod:`hwarang.hub.sharing.conditions`); see docs/sharing.md for the legal basis.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from hwarang.domain import AgencyKind, Classification, Grant, Incident, Role, User
from hwarang.hub.errors import HubError


class Action(StrEnum):
    """Everything a user can ask the hub to do; routes declare the one they perform."""

    INCIDENT_VIEW = "incident.view"
    EVIDENCE_VIEW = "evidence.view"
    INCIDENT_TRANSITION = "incident.transition"
    INCIDENT_ASSIGN = "incident.assign"
    INCIDENT_NOTE = "incident.note"
    INCIDENT_ATTACH = "incident.attach"
    INCIDENT_MERGE = "incident.merge"
    INCIDENT_SHARE = "incident.share"
    INCIDENT_EXPORT = "incident.export"
    TASK_CREATE = "task.create"
    TASK_UPDATE = "task.update"
    EVENT_INGEST = "event.ingest"
    CAMERA_VIEW = "camera.view"
    CAMERA_CONFIGURE = "camera.configure"
    CONDITION_VIEW = "condition.view"
    CONDITION_DECLARE = "condition.declare"
    AUDIT_VIEW = "audit.view"
    USER_ADMIN = "user.admin"


_READ = frozenset({Action.INCIDENT_VIEW, Action.CAMERA_VIEW, Action.CONDITION_VIEW})
_HANDLE = _READ | {
    Action.EVIDENCE_VIEW,
    Action.INCIDENT_TRANSITION,
    Action.INCIDENT_NOTE,
    Action.INCIDENT_ATTACH,
    Action.INCIDENT_EXPORT,
}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.OPERATOR: _HANDLE
    | {Action.INCIDENT_ASSIGN, Action.TASK_CREATE, Action.TASK_UPDATE, Action.EVENT_INGEST},
    Role.COMMANDER: _HANDLE
    | {
        Action.INCIDENT_ASSIGN,
        Action.INCIDENT_MERGE,
        Action.INCIDENT_SHARE,
        Action.TASK_CREATE,
        Action.TASK_UPDATE,
        Action.CONDITION_DECLARE,
    },
    Role.HEAD_OF_LOCAL_GOVERNMENT: _HANDLE
    | {Action.INCIDENT_SHARE, Action.TASK_CREATE, Action.TASK_UPDATE, Action.CONDITION_DECLARE},
    Role.AGENCY_LIAISON: _READ
    | {Action.EVIDENCE_VIEW, Action.INCIDENT_NOTE, Action.INCIDENT_EXPORT, Action.TASK_UPDATE},
    Role.EVALUATOR: _READ | {Action.AUDIT_VIEW},
    Role.ADMIN: frozenset(Action),
}
"""What each role may do at all; object checks (jurisdiction, agency, classification) come on top."""

OWNER_KINDS = frozenset(
    {AgencyKind.LOCAL_GOVERNMENT, AgencyKind.INTEGRATED_DEFENSE_HQ, AgencyKind.INTERIOR_MINISTRY}
)
"""Agencies that own municipal CCTV information in their jurisdiction."""
OWNER_ONLY_ACTIONS = frozenset(
    {Action.INCIDENT_TRANSITION, Action.INCIDENT_ASSIGN, Action.INCIDENT_MERGE, Action.INCIDENT_SHARE}
)
"""What only the owning center (an owner agency of the incident's area) does to an incident: its
state (acknowledge ... resolve, close as false alarm), assignment, merging and sharing. Partner
agencies act on their own tasks instead."""
GRANT_ONLY_EVIDENCE_KINDS = frozenset({AgencyKind.MILITARY, AgencyKind.INTELLIGENCE})
"""Agencies that may see municipal CCTV evidence only under a grant of a declared condition."""

_CLEARANCE_ORDER = {
    Classification.UNCLASSIFIED: 0,
    Classification.RESTRICTED: 1,
    Classification.CONFIDENTIAL: 2,
    Classification.SECRET: 3,
}


class AccessDeniedError(HubError):
    """The user may not do this; the message says why (HTTP 403)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an action is allowed, why, and the grant that allowed it (to audit its use)."""

    allowed: bool
    reason: str
    grant_id: uuid.UUID | None = None


def in_area(region_code: str, area_code: str | None) -> bool:
    """True when sigungu/sido ``region_code`` lies in ``area_code`` (None: the whole nation)."""
    return area_code is None or region_code.startswith(area_code)


def areas_overlap(a: str | None, b: str | None) -> bool:
    """True when two areas (sido/sigungu codes, None for the nation) share any ground."""
    return a is None or b is None or a.startswith(b) or b.startswith(a)


def area_intersection(a: str | None, b: str | None) -> str | None:
    """The narrower of two overlapping areas (None: the nation); ValueError when they do not overlap."""
    if not areas_overlap(a, b):
        raise ValueError(f"areas {a} and {b} do not overlap")
    if a is None:
        return b
    if b is None:
        return a
    return a if len(a) >= len(b) else b


def in_jurisdiction(user: User, region_code: str) -> bool:
    """True when ``region_code`` (sido or sigungu) lies in the user's jurisdiction."""
    return in_area(region_code, user.jurisdiction_code)


def cleared_for(user: User, classification: Classification) -> bool:
    """True when the user's clearance reaches ``classification``."""
    return _CLEARANCE_ORDER[user.clearance] >= _CLEARANCE_ORDER[classification]


def role_allows(user: User, action: Action) -> Decision:
    """Role check only: may the user perform ``action`` on anything at all?"""
    if any(action in ROLE_ACTIONS.get(role, frozenset()) for role in user.roles):
        return Decision(True, f"role allows {action}")
    roles = ", ".join(sorted(str(r) for r in user.roles))
    return Decision(False, f"{action} is not allowed for roles {roles}")


AgencyKindLookup = Callable[[str], AgencyKind | None]
GrantSource = Callable[[datetime], Sequence[Grant]]
ShareSource = Callable[[str, AgencyKind | None, datetime], Mapping[uuid.UUID, datetime]]
"""Incidents explicitly shared with an agency (code, kind) at a time, and until when."""
_EVIDENCE_ACTIONS = frozenset({Action.EVIDENCE_VIEW, Action.INCIDENT_EXPORT})


class UserScope:
    """One user's need-to-know at one moment: agency kind and grants in force, looked up once.

    Build it with :meth:`SharingPolicy.scope` when deciding on many incidents (lists, live
    streams); it does no I/O itself.
    """

    def __init__(
        self,
        user: User,
        kind: AgencyKind | None,
        grants: Sequence[Grant],
        now: datetime,
        shares: Mapping[uuid.UUID, datetime] | None = None,
    ) -> None:
        self.user = user
        self.kind = kind
        self.grants = tuple(grants)
        self.now = now
        self.shares: Mapping[uuid.UUID, datetime] = shares or {}

    def decide(self, action: Action, incident: Incident) -> Decision:
        """May the user do ``action`` on ``incident``? The four checks of this module, in order."""
        user = self.user
        decision = role_allows(user, action)
        if not decision.allowed:
            return decision
        if not in_jurisdiction(user, incident.sigungu_code):
            return Decision(False, f"incident {incident.id} is outside your jurisdiction")
        if Role.ADMIN in user.roles:
            return Decision(True, "administrator")
        if not cleared_for(user, incident.classification):
            return Decision(False, f"incident {incident.id} needs a higher clearance than yours")
        if incident.exercise and Role.EVALUATOR in user.roles and action in _READ:
            return Decision(True, "evaluator reads exercise incidents")
        kind = self.kind
        if kind is None:
            return Decision(False, f"agency {user.agency_code!r} is not registered")
        if kind in OWNER_KINDS:
            return Decision(True, f"{kind} owns incidents in its jurisdiction")
        if action in OWNER_ONLY_ACTIONS:
            return Decision(
                False,
                f"only the owning control center may {action} incident {incident.id}; "
                "act on your agency's tasks instead",
            )
        until = self.shares.get(incident.id)
        shared = (
            kind.value in incident.shared_with
            or user.agency_code in incident.shared_with
            or until is not None
        )
        grant_only = action in _EVIDENCE_ACTIONS and kind in GRANT_ONLY_EVIDENCE_KINDS
        if shared and not grant_only:
            if until is not None:
                return Decision(True, f"shared with you until {until.isoformat(timespec='minutes')}")
            return Decision(True, f"incident shared with {kind}")
        grant = self._grant_for(action, incident.sigungu_code)
        if grant is not None:
            return Decision(True, f"grant {grant.id} of condition {grant.condition_id}", grant.id)
        if shared:
            return Decision(False, f"{action} of municipal CCTV needs a declared condition covering the area")
        return Decision(False, f"incident {incident.id} is not shared with {kind} ({user.agency_code})")

    def decide_camera(
        self, camera_id: str, sigungu_code: str, *, incident: Incident | None = None
    ) -> Decision:
        """May the user watch camera ``camera_id`` (in ``sigungu_code``) live?

        Through ``incident`` (its camera's view from the incident panel): the incident's evidence
        decision. From the map (no incident): evidence of the camera's area: role, jurisdiction,
        owner agencies of the area, anyone else only under a grant of a declared condition.
        """
        if incident is not None:
            if incident.camera_id != camera_id:
                return Decision(False, f"camera {camera_id} is not incident {incident.id}'s camera")
            return self.decide(Action.EVIDENCE_VIEW, incident)
        action = Action.EVIDENCE_VIEW
        user = self.user
        decision = role_allows(user, action)
        if not decision.allowed:
            return decision
        if not in_jurisdiction(user, sigungu_code):
            return Decision(False, f"camera {camera_id} is outside your jurisdiction")
        if Role.ADMIN in user.roles:
            return Decision(True, "administrator")
        kind = self.kind
        if kind is None:
            return Decision(False, f"agency {user.agency_code!r} is not registered")
        if kind in OWNER_KINDS:
            return Decision(True, f"{kind} owns the cameras in its jurisdiction")
        grant = self._grant_for(action, sigungu_code)
        if grant is not None:
            return Decision(True, f"grant {grant.id} of condition {grant.condition_id}", grant.id)
        return Decision(
            False, f"live view of municipal camera {camera_id} needs a declared condition covering it"
        )

    def own_grants(self) -> tuple[Grant, ...]:
        """The grants in force now that were opened for the user's agency (by code or kind)."""
        return tuple(grant for grant in self.grants if grant.active(self.now) and self._is_ours(grant))

    def _is_ours(self, grant: Grant) -> bool:
        if grant.agency_code is not None and grant.agency_code != self.user.agency_code:
            return False
        return grant.agency_kind is None or grant.agency_kind is self.kind

    def _grant_for(self, action: Action, sigungu_code: str) -> Grant | None:
        for grant in self.own_grants():
            if action.value in grant.permissions and any(in_area(sigungu_code, a) for a in grant.area_codes):
                return grant
        return None


class SharingPolicy:
    """Decides need-to-know questions; pure apart from the two lookups it is given.

    ``agency_kind`` maps an agency code to its kind (None: unknown agency, which sees nothing).
    ``active_grants`` returns the grants in force at a time; ``active_shares`` the incidents
    explicitly shared with an agency at a time (:mod:`hwarang.hub.sharing.shares`).
    """

    def __init__(
        self,
        agency_kind: AgencyKindLookup,
        active_grants: GrantSource,
        active_shares: ShareSource | None = None,
    ) -> None:
        self._agency_kind = agency_kind
        self._active_grants = active_grants
        self._active_shares = active_shares

    def scope(
        self, user: User, *, now: datetime | None = None, grants: Sequence[Grant] | None = None
    ) -> UserScope:
        """The user's :class:`UserScope` at ``now`` (grants looked up unless given)."""
        at = now or datetime.now(UTC)
        in_force = self._active_grants(at) if grants is None else grants
        kind = self._agency_kind(user.agency_code)
        shares = None
        if self._active_shares is not None and kind not in OWNER_KINDS:
            shares = self._active_shares(user.agency_code, kind, at)
        return UserScope(user, kind, in_force, at, shares)

    def decide(
        self,
        user: User,
        action: Action,
        incident: Incident,
        *,
        now: datetime | None = None,
        grants: Sequence[Grant] | None = None,
    ) -> Decision:
        """May ``user`` do ``action`` on ``incident`` at ``now``? ``grants``: those in force, if known."""
        decision = role_allows(user, action)
        if not decision.allowed:
            return decision  # no lookups for a refusal by role
        return self.scope(user, now=now, grants=grants).decide(action, incident)

    def decide_camera(
        self,
        user: User,
        camera_id: str,
        sigungu_code: str,
        *,
        incident: Incident | None = None,
        now: datetime | None = None,
    ) -> Decision:
        """May ``user`` watch the camera live (see :meth:`UserScope.decide_camera`) at ``now``?"""
        decision = role_allows(user, Action.EVIDENCE_VIEW)
        if not decision.allowed:
            return decision
        return self.scope(user, now=now).decide_camera(camera_id, sigungu_code, incident=incident)

    def require(
        self, user: User, action: Action, incident: Incident, *, now: datetime | None = None
    ) -> Decision:
        """:meth:`decide`, raising AccessDeniedError when refused."""
        decision = self.decide(user, action, incident, now=now)
        if not decision.allowed:
            raise AccessDeniedError(decision.reason)
        return decision

    def visible(
        self,
        user: User,
        incidents: Iterable[Incident],
        *,
        now: datetime | None = None,
        action: Action = Action.INCIDENT_VIEW,
    ) -> tuple[list[Incident], set[uuid.UUID]]:
        """The incidents ``user`` may ``action`` (same order) and the ids of the grants relied on."""
        scope = self.scope(user, now=now)
        kept: list[Incident] = []
        used: set[uuid.UUID] = set()
        for incident in incidents:
            decision = scope.decide(action, incident)
            if decision.allowed:
                kept.append(incident)
                if decision.grant_id is not None:
                    used.add(decision.grant_id)
        return kept, used
