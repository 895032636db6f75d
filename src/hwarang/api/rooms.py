"""Typed dependencies, one per hub room: a route declares the part of the hub it uses.

``incidents: IncidentsRoom`` in a route's signature gives it the hub's incident reads, and
nothing else; no route reaches through the hub service.
"""

from dataclasses import dataclass
from typing import Annotated

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


def incidents_of(conn: HTTPConnection) -> IncidentQueries:
    """The hub's incident and event reads."""
    return get_context(conn).service.incidents


def ingest_of(conn: HTTPConnection) -> IngestService:
    """The hub's ingest (events in, merge and split)."""
    return get_context(conn).service.ingest


def cameras_of(conn: HTTPConnection) -> CameraRegistry:
    """The hub's camera registry."""
    return get_context(conn).service.cameras


def workflow_of(conn: HTTPConnection) -> WorkflowService:
    """The hub's workflow."""
    return get_context(conn).service.workflow


def tasks_of(conn: HTTPConnection) -> TaskService:
    """The hub's tasks."""
    return get_context(conn).service.workflow.tasks


def users_of(conn: HTTPConnection) -> UserStore:
    """The hub's users."""
    return get_context(conn).service.identity.users


def agencies_of(conn: HTTPConnection) -> AgencyStore:
    """The hub's agencies."""
    return get_context(conn).service.identity.agencies


def refresh_tokens_of(conn: HTTPConnection) -> RefreshTokenStore:
    """The hub's refresh tokens."""
    return get_context(conn).service.identity.refresh_tokens


def shares_of(conn: HTTPConnection) -> ShareService:
    """The hub's explicit incident shares."""
    return get_context(conn).service.shares


def sharing_of(conn: HTTPConnection) -> SharingPolicy:
    """The hub's need-to-know policy."""
    return get_context(conn).service.sharing


def conditions_of(conn: HTTPConnection) -> ConditionService:
    """The hub's declared conditions and grants."""
    return get_context(conn).service.conditions


def evidence_of(conn: HTTPConnection) -> EvidenceStore:
    """The hub's evidence store."""
    return get_context(conn).service.evidence


def audit_of(conn: HTTPConnection) -> AuditLog:
    """The hub's audit trail."""
    return get_context(conn).service.audit


def drones_of(conn: HTTPConnection) -> DroneHub:
    """The hub's drone room."""
    return get_context(conn).service.drones


def journal_of(conn: HTTPConnection) -> Journal:
    """The hub's journal (seqs and change listeners)."""
    return get_context(conn).service.journal


def health_of(conn: HTTPConnection) -> HealthBoard:
    """The hub's conditions (store unavailable, disk full, damaged store)."""
    return get_context(conn).service.health


def database_of(conn: HTTPConnection) -> Database:
    """The hub's database (for the read models that query it directly: map layers, packages)."""
    return get_context(conn).service.database


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


IncidentsRoom = Annotated[IncidentQueries, Depends(incidents_of)]
IngestRoom = Annotated[IngestService, Depends(ingest_of)]
CamerasRoom = Annotated[CameraRegistry, Depends(cameras_of)]
WorkflowRoom = Annotated[WorkflowService, Depends(workflow_of)]
TasksRoom = Annotated[TaskService, Depends(tasks_of)]
UsersRoom = Annotated[UserStore, Depends(users_of)]
AgenciesRoom = Annotated[AgencyStore, Depends(agencies_of)]
RefreshTokensRoom = Annotated[RefreshTokenStore, Depends(refresh_tokens_of)]
SharingRoom = Annotated[SharingPolicy, Depends(sharing_of)]
SharesRoom = Annotated[ShareService, Depends(shares_of)]
ConditionsRoom = Annotated[ConditionService, Depends(conditions_of)]
EvidenceRoom = Annotated[EvidenceStore, Depends(evidence_of)]
AuditRoom = Annotated[AuditLog, Depends(audit_of)]
DronesRoom = Annotated[DroneHub, Depends(drones_of)]
JournalRoom = Annotated[Journal, Depends(journal_of)]
DatabaseRoom = Annotated[Database, Depends(database_of)]
HealthRoom = Annotated[HealthBoard, Depends(health_of)]
GateRoom = Annotated[Gate, Depends(gate_of)]
