"""Workflow test helpers: a settable clock, a hub with agencies and users, and incidents in any state."""

import itertools
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hwarang.domain import Agency, AgencyKind, Incident, IncidentState, Role, User
from hwarang.hub.service import HubService
from hwarang.hub.store.models import IncidentHistoryRow
from hwarang.hub.workflow.parts import WorkflowParts
from hwarang.hub.workflow.service import WorkflowConfig, WorkflowService
from hwarang.hub.workflow.states import INCIDENT_TRANSITIONS, REASON_REQUIRED
from tests.hub_support import make_message, new_incident

NOW = datetime(2026, 5, 1, 9, 0, 0, tzinfo=UTC)
PASSWORD = "workflow-password-1"
POLICE = "police-seoul"
ARMY = "army-52"
_tracks = itertools.count(1)


@dataclass
class Clock:
    """A UTC clock the test moves by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Seen:
    """Incidents a listener was told about."""

    incidents: list[Incident] = field(default_factory=list)

    def __call__(self, incident: Incident) -> None:
        self.incidents.append(incident)


USERS = {
    "cmd": User(username="cmd", display_name="Commander", agency_code="idhq", roles=(Role.COMMANDER,)),
    "op": User(
        username="op",
        display_name="Seoul operator",
        agency_code="idhq",
        jurisdiction_code="11",
        roles=(Role.OPERATOR,),
    ),
    "op-busan": User(
        username="op-busan",
        display_name="Busan operator",
        agency_code="idhq",
        jurisdiction_code="26",
        roles=(Role.OPERATOR,),
    ),
    "liaison": User(
        username="liaison", display_name="Police liaison", agency_code=POLICE, roles=(Role.AGENCY_LIAISON,)
    ),
    "army-liaison": User(
        username="army-liaison", display_name="Army liaison", agency_code=ARMY, roles=(Role.AGENCY_LIAISON,)
    ),
}


def prepare_hub(service: HubService) -> None:
    """Default agencies, a police and an army agency, and the :data:`USERS`."""
    service.identity.ensure_admin(PASSWORD)
    service.identity.agencies.upsert(
        [
            Agency(code=POLICE, name="Seoul police", kind=AgencyKind.POLICE),
            Agency(code=ARMY, name="52nd division", kind=AgencyKind.MILITARY),
        ]
    )
    for user in USERS.values():
        service.identity.users.create(user, PASSWORD)


def workflow_of(service: HubService, clock: Clock, **config: object) -> WorkflowService:
    """A WorkflowService on ``service`` with the test clock (and config overrides)."""
    parts = WorkflowParts(
        service.database,
        service.journal,
        service.identity.users,
        service.identity.agencies,
        service.incidents,
        service.sharing,
        service.evidence,
    )
    return WorkflowService(parts, WorkflowConfig.model_validate(config), clock=clock)


def fresh_incident(service: HubService) -> Incident:
    """A new incident from a new event."""
    return new_incident(service, make_message(track_id=next(_tracks)))


def path_to(target: IncidentState) -> list[IncidentState]:
    """The shortest run of transitions from ``new`` to ``target`` (empty for ``new``)."""
    queue: deque[list[IncidentState]] = deque([[IncidentState.NEW]])
    while queue:
        path = queue.popleft()
        if path[-1] is target:
            return path[1:]
        queue.extend([*path, nxt] for nxt in sorted(INCIDENT_TRANSITIONS[path[-1]]) if nxt not in path)
    raise AssertionError(f"{target} cannot be reached from new")


def drive_to(workflow: WorkflowService, incident_id: uuid.UUID, target: IncidentState) -> Incident | None:
    """Move an incident along :func:`path_to` (closing with a reason); the last incident, or None."""
    incident = None
    for state in path_to(target):
        reason = "closing for the test" if state in REASON_REQUIRED else ""
        incident = workflow.transition(incident_id, state, "op", reason)
    return incident


def history(service: HubService, incident_id: uuid.UUID) -> list[IncidentHistoryRow]:
    """The incident's history rows in order."""
    stmt = select(IncidentHistoryRow).where(IncidentHistoryRow.incident_id == incident_id)
    with service.database.session() as session:
        return list(session.scalars(stmt.order_by(IncidentHistoryRow.id)))
