"""Typed dependencies, one per hub room: a route declares the part of the hub it uses.

``incidents: IncidentsRoom`` in a route's signature gives it the hub's incident reads, and
nothing else; no route reaches through the hub service.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends
from starlette.requests import HTTPConnection

from hwarang.api.context import get_context
from hwarang.hub.drones.hub import DroneHub
from hwarang.hub.evidence.log import AuditLog
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.cameras import CameraRegistry
from hwarang.hub.fusion.ingest import IngestService
from hwarang.hub.fusion.queries import IncidentQueries
from hwarang.hub.identity.agencies import AgencyStore
from hwarang.hub.identity.refresh_tokens import RefreshTokenStore
from hwarang.hub.identity.users import UserStore
from hwarang.hub.journal import Journal
from hwarang.hub.service import HubService
from hwarang.hub.sharing.conditions import ConditionService
from hwarang.hub.sharing.policy import SharingPolicy
from hwarang.hub.sharing.shares import ShareService
from hwarang.hub.store.db import Database
from hwarang.hub.store.health import HealthBoard
from hwarang.hub.workflow.service import WorkflowService
from hwarang.hub.workflow.tasks import TaskService

__all__ = [
    "AgenciesRoom",
    "AuditRoom",
    "CamerasRoom",
    "ConditionsRoom",
    "DatabaseRoom",
    "DronesRoom",
    "EvidenceRoom",
    "Gate",
    "GateRoom",
    "HealthRoom",
    "IncidentsRoom",
    "IngestRoom",
    "JournalRoom",
    "RefreshTokensRoom",
    "SharesRoom",
    "SharingRoom",
    "TasksRoom",
    "UsersRoom",
    "WorkflowRoom",
]


T = TypeVar("T")


def _room(pick: Callable[[HubService], T], doc: str) -> Callable[[HTTPConnection], T]:
    """A dependency giving the part of the hub that ``pick`` takes from the service."""

    def dependency(conn: HTTPConnection) -> T:
        return pick(get_context(conn).service)

    dependency.__doc__ = doc
    return dependency


@dataclass(frozen=True, slots=True)
class Gate:
    """What access checks use: incident reads, the sharing policy, the audit trail, the database."""

    incidents: IncidentQueries
    sharing: SharingPolicy
    audit: AuditLog
    database: Database


def gate_of(conn: HTTPConnection) -> Gate:
    """The access gate of the hub (see :mod:`hwarang.api.access`)."""
    service = get_context(conn).service
    return Gate(service.incidents, service.sharing, service.audit, service.database)


IncidentsRoom = Annotated[IncidentQueries, Depends(_room(lambda s: s.incidents, "Incident and event reads."))]
IngestRoom = Annotated[
    IngestService, Depends(_room(lambda s: s.ingest, "Ingest: events in, merge and split."))
]
CamerasRoom = Annotated[CameraRegistry, Depends(_room(lambda s: s.cameras, "The camera registry."))]
WorkflowRoom = Annotated[WorkflowService, Depends(_room(lambda s: s.workflow, "The workflow."))]
TasksRoom = Annotated[TaskService, Depends(_room(lambda s: s.workflow.tasks, "Agency tasks."))]
UsersRoom = Annotated[UserStore, Depends(_room(lambda s: s.identity.users, "Users."))]
AgenciesRoom = Annotated[AgencyStore, Depends(_room(lambda s: s.identity.agencies, "Agencies."))]
RefreshTokensRoom = Annotated[
    RefreshTokenStore, Depends(_room(lambda s: s.identity.refresh_tokens, "Refresh tokens."))
]
SharingRoom = Annotated[SharingPolicy, Depends(_room(lambda s: s.sharing, "The need-to-know policy."))]
SharesRoom = Annotated[ShareService, Depends(_room(lambda s: s.shares, "Explicit incident shares."))]
ConditionsRoom = Annotated[
    ConditionService, Depends(_room(lambda s: s.conditions, "Declared conditions and grants."))
]
EvidenceRoom = Annotated[EvidenceStore, Depends(_room(lambda s: s.evidence, "The evidence store."))]
AuditRoom = Annotated[AuditLog, Depends(_room(lambda s: s.audit, "The audit trail."))]
DronesRoom = Annotated[DroneHub, Depends(_room(lambda s: s.drones, "The drone room."))]
JournalRoom = Annotated[Journal, Depends(_room(lambda s: s.journal, "The journal (seqs, change listeners)."))]
DatabaseRoom = Annotated[
    Database, Depends(_room(lambda s: s.database, "The database (read models that query it directly)."))
]
HealthRoom = Annotated[
    HealthBoard, Depends(_room(lambda s: s.health, "Store conditions (unavailable, disk, damage)."))
]
GateRoom = Annotated[Gate, Depends(gate_of)]
