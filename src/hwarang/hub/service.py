"""The hub as one object: its rooms, built once with their collaborators, and nothing else.

The API, the ingest loop and the runtimes hold a :class:`HubService` and use the room they need:
``ingest`` (events in, merge and split), ``incidents`` (reads), ``cameras``, ``workflow``,
``identity`` (users, refresh tokens, agencies), ``sharing`` and ``conditions`` (need-to-know),
``evidence`` and ``audit``, ``drones``; ``health`` holds the conditions (store unavailable,
disk full, damaged store) that ``GET /api/v1/health`` reports; ``journal`` hands out seqs and
tells listeners of every changed incident. No room reaches back into the service.
"""

import threading
from collections.abc import Callable
from datetime import datetime

from argon2 import PasswordHasher

from hwarang.geo.geofences import GeofenceSet
from hwarang.hub.drones.config import DroneConfig
from hwarang.hub.drones.hub import DroneHub
from hwarang.hub.evidence.clips import ClipIntake
from hwarang.hub.evidence.log import AuditLog
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.cameras import CameraRegistry
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.fusion.fuser import EventFuser
from hwarang.hub.fusion.ingest import IngestService
from hwarang.hub.fusion.labels import CameraLabels
from hwarang.hub.fusion.queries import IncidentQueries
from hwarang.hub.identity.directory import Directory
from hwarang.hub.journal import Journal
from hwarang.hub.sharing.access_changes import AccessChanges
from hwarang.hub.sharing.condition_policy import ConditionPolicy
from hwarang.hub.sharing.conditions import ConditionService
from hwarang.hub.sharing.policy import SharingPolicy
from hwarang.hub.sharing.shares import ShareService
from hwarang.hub.store.db import Database
from hwarang.hub.store.health import HealthBoard
from hwarang.hub.workflow.config import WorkflowConfig
from hwarang.hub.workflow.parts import WorkflowParts
from hwarang.hub.workflow.service import WorkflowService

__all__ = ["HubService"]


class HubService:
    """The rooms of one hub over ``database`` and ``evidence``.

    ``zone_for_sido`` maps a sido code to its exercise zone number (None: no zone recorded).
    ``camera_names`` maps a camera id to a display name for incident titles; without it the
    ``cameras`` table is consulted, and the camera id is used when no name is known.
    ``password_hasher`` overrides argon2's default parameters (tests use cheap ones).
    ``workflow`` configures :attr:`workflow` (states, tasks, escalation, attachments) and
    ``clock`` (UTC now) stamps its changes. ``fusion`` correlates events into incidents and rates
    them (:mod:`hwarang.hub.fusion`); without it every event opens its own incident with the
    built-in severity. ``drones`` and ``fences`` configure :attr:`drones`, built on first use.
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
        clock: Callable[[], datetime] | None = None,
        fusion: FusionConfig | None = None,
        drones: DroneConfig | None = None,
        fences: GeofenceSet | None = None,
        condition_policy: ConditionPolicy | None = None,
    ) -> None:
        self.database = database
        self.health = HealthBoard()
        self.journal = Journal(database)
        self.evidence = evidence
        self.clips = ClipIntake(database, evidence)
        self.audit = AuditLog(database)
        self.identity = Directory(database, password_hasher)
        agencies = self.identity.agencies
        self.access_changes = AccessChanges()
        self.shares = ShareService(database, self.journal, agencies, changes=self.access_changes)
        self.sharing = SharingPolicy(agencies.kind_of, agencies.active_grants, self.shares.in_force_for)
        self.conditions = ConditionService(
            database, agencies, policy=condition_policy, changes=self.access_changes
        )
        self.fuser = EventFuser(fusion)
        self.cameras = CameraRegistry(database, on_change=self.fuser.forget_cameras)
        self.incidents = IncidentQueries(database)
        self.ingest = IngestService(
            database,
            self.journal,
            evidence,
            self.fuser,
            CameraLabels(camera_names),
            zone_for_sido=zone_for_sido,
        )
        parts = WorkflowParts(
            database, self.journal, self.identity.users, agencies, self.incidents, self.sharing, evidence
        )
        self.workflow = WorkflowService(parts, workflow, clock=clock)
        self._drone_config, self._fences = drones, fences
        self._drones: DroneHub | None = None
        self._drones_lock = threading.Lock()

    @property
    def drones(self) -> DroneHub:
        """The drone room, built on first use (its severity hook joins fusion, its listener the journal)."""
        with self._drones_lock:
            if self._drones is None:
                hub = DroneHub(self.database, self.ingest, self._drone_config, fences=self._fences)
                self.fuser.severity_hooks.append(hub.severity)
                self.journal.add_listener(hub.on_incident)
                self._drones = hub
            return self._drones
