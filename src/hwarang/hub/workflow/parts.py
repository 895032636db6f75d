"""The collaborators the workflow is built with (no part reaches back into the hub service)."""

from dataclasses import dataclass

from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.queries import IncidentQueries
from hwarang.hub.identity.agencies import AgencyStore
from hwarang.hub.identity.users import UserStore
from hwarang.hub.journal import Journal
from hwarang.hub.sharing.policy import SharingPolicy
from hwarang.hub.store.db import Database

__all__ = ["WorkflowParts"]


@dataclass(frozen=True, slots=True)
class WorkflowParts:
    """The store, the journal (seqs, listeners), and the rooms the workflow consults."""

    database: Database
    journal: Journal
    users: UserStore
    agencies: AgencyStore
    incidents: IncidentQueries
    sharing: SharingPolicy
    evidence: EvidenceStore
