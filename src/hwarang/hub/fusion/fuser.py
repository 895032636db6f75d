"""Fusion inside the ingest transaction: candidates, decisions, seqs and rows of one batch.

Per batch, in the ingest transaction:

1. the in-memory mirror of open incidents catches up with the store (one tiny query; see
   :mod:`hwarang.hub.fusion.mirror`) and gives the candidates of the batch's cameras and their
   neighbours whose span meets the batch's time window;
2. :class:`~hwarang.hub.fusion.correlation.IncidentIndex` assigns each event in batch order, so a later event
   can join an incident an earlier one of the batch opened;
3. on PostgreSQL the stored incidents joined are locked (``FOR UPDATE``, in id order, before
   ``hub_state`` as every writer does); if one changed meanwhile (its ``seq`` moved) planning starts
   over (a SQLite writer holds the database lock from BEGIN: nothing can change);
4. rows are written (:class:`~hwarang.hub.fusion.rows.IngestBatch`) and, after the commit, the mirror takes
   in each touched incident's values, event ids and look at its new seq.

Cameras come from the ``cameras`` table, re-read at most every ``CAMERA_REFRESH_S``.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.domain import Camera, Event, EventMessage, GeoPoint, Incident, ObjectClass, RuleKind
from hwarang.hub.errors import StoreError
from hwarang.hub.fusion.correlation import (
    CameraIndex,
    Fusion,
    FusionConfig,
    Histogram,
    IncidentIndex,
    appearance_histogram,
)
from hwarang.hub.fusion.mirror import IncidentMirror, Known
from hwarang.hub.fusion.rows import IngestBatch, lock_incidents
from hwarang.hub.fusion.severity import SeverityDecision, SeverityHook, SeverityRules, default_decision
from hwarang.hub.store.locks import lock_hub_state
from hwarang.hub.store.models import CameraRow

logger = logging.getLogger(__name__)

CAMERA_REFRESH_S = 60.0
PLAN_ATTEMPTS = 3

Titler = Callable[[RuleKind, ObjectClass, str], str]


@dataclass(frozen=True, slots=True)
class FusedBatch:
    """What a batch did: the incident of each fresh event, and every incident it opened or changed."""

    by_event: dict[uuid.UUID, Incident]
    changed: list[Incident]
    opened: int
    joined_events: int
    known: dict[uuid.UUID, Known]
    """The touched incidents as the batch left them (for the mirror, once committed)."""
    seqs: tuple[int, int] = (0, -1)
    """The first and last seq the batch allocated."""


class EventFuser:
    """Turns fresh events into incident rows: fused under ``config``, or one incident each without it.

    ``config`` None is the bare ingest of before fusion: one incident per event, the built-in
    severity, no ``incident_history`` rows. A config with ``enabled: false`` opens one incident per
    event but applies its severity rules and records history.
    """

    def __init__(self, config: FusionConfig | None) -> None:
        self.config = config
        self.rules = None if config is None else SeverityRules(config.severity)
        self._cameras: CameraIndex | None = None
        self._cameras_expire = 0.0
        self._lock = threading.Lock()
        self.mirror = IncidentMirror()
        self.severity_hooks: list[SeverityHook] = []
        """Called in order on every decision (see :data:`~hwarang.hub.fusion.severity.SeverityHook`)."""

    @property
    def fusing(self) -> bool:
        """True when events are correlated into incidents."""
        return self.config is not None and self.config.enabled

    def forget_cameras(self) -> None:
        """Re-read the cameras table at the next batch (a camera was added or changed)."""
        with self._lock:
            self._cameras_expire = 0.0

    def cameras(self, session: Session) -> CameraIndex:
        """The camera index, re-read when older than ``CAMERA_REFRESH_S``."""
        with self._lock:
            index, expire = self._cameras, self._cameras_expire
        if index is not None and time.monotonic() < expire:
            return index
        max_m = 150.0 if self.config is None else self.config.max_distance_m
        cameras = [Camera.model_validate(payload) for payload in session.scalars(select(CameraRow.payload))]
        index = CameraIndex(cameras, max_distance_m=max_m)
        with self._lock:
            self._cameras, self._cameras_expire = index, time.monotonic() + CAMERA_REFRESH_S
        return index

    def severity_of(self, event: Event, cameras: CameraIndex | None = None) -> SeverityDecision:
        """Severity and sharing of one event (its position, else its camera's, for named areas)."""
        position: GeoPoint | None = event.geo
        if position is None and cameras is not None:
            position = cameras.position(event.camera_id)
        decision = default_decision(event) if self.rules is None else self.rules.decide(event, position)
        for hook in self.severity_hooks:
            decision = hook(event, position, decision)
        return decision

    def ingest(
        self,
        session: Session,
        messages: Sequence[EventMessage],
        now: datetime,
        *,
        next_seq: Callable[[Session, int], int],
        labels: dict[str, str],
        zone_for_sido: Callable[[str], int | None] | None,
        title: Titler,
    ) -> FusedBatch:
        """Store ``messages`` (fresh events, batch order) with their incidents in ``session``."""
        if not messages:
            return FusedBatch({}, [], 0, 0, {})
        cameras = self.cameras(session) if self.config is not None else None
        appearances = self._appearances(messages)
        for _attempt in range(PLAN_ATTEMPTS):
            stored = self._candidates(session, messages, cameras)
            batch = self._plan(messages, now, cameras, stored, appearances, labels, zone_for_sido, title)
            if session.get_bind().dialect.name == "sqlite":
                break  # a SQLite writer holds the database's write lock from BEGIN: nothing changed
            lock_hub_state(session)  # the one lock order (hub/store/locks.py): hub_state, then incidents
            locked = lock_incidents(session, batch.stored)
            changed = [i for i in batch.stored if locked.get(i) != (stored[i].seq, True)]
            if not changed:
                break
            logger.info("%s incidents changed while events were fused; planning again", len(changed))
            self.mirror.forget(changed)
        else:
            raise StoreError(f"incidents kept changing while {len(messages)} events were fused; retry later")
        batch.complete({incident_id: stored[incident_id].values for incident_id in batch.stored})
        last_seq = next_seq(session, len(batch.touched))
        batch.number(last_seq)
        batch.insert(session)
        incidents, events = batch.incidents(session, lambda incident_id: stored[incident_id].events)
        known = {
            incident_id: Known(
                incidents[incident_id].seq, batch.values[incident_id], events[incident_id], incident
            )
            for incident_id, incident in batch.touched.items()
        }
        by_event = {step.event.id: incidents[step.incident_id] for step in batch.steps}
        changed_incidents = sorted(incidents.values(), key=lambda incident: incident.seq)
        joined = sum(1 for step in batch.steps if step.match is not None)
        seqs = (last_seq - len(batch.touched) + 1, last_seq)
        return FusedBatch(by_event, changed_incidents, len(batch.new), joined, known, seqs)

    def remember(self, batch: FusedBatch) -> None:
        """Take in the incidents of a committed batch (the mirror keeps them as of their new seq)."""
        if self.fusing and batch.known:
            self.mirror.commit(batch.known, *batch.seqs)

    def _candidates(
        self, session: Session, messages: Sequence[EventMessage], cameras: CameraIndex | None
    ) -> dict[uuid.UUID, Known]:
        """The open incidents the batch's events may join, as of their current seq."""
        if not self.fusing or self.config is None or cameras is None:
            return {}
        window = timedelta(seconds=self.config.window_s)
        start = min(message.event.occurred_at for message in messages) - window
        end = max(message.event.occurred_at for message in messages) + window
        neighbours = set().union(*(cameras.neighbours(message.event.camera_id) for message in messages))
        self.mirror.sync(session, start)
        return self.mirror.candidates(neighbours, start, end)

    def _plan(
        self,
        messages: Sequence[EventMessage],
        now: datetime,
        cameras: CameraIndex | None,
        stored: Mapping[uuid.UUID, Known],
        appearances: dict[uuid.UUID, Histogram],
        labels: dict[str, str],
        zone_for_sido: Callable[[str], int | None] | None,
        title: Titler,
    ) -> IngestBatch:
        """Decide every event against the candidates ``stored`` and the incidents the batch opens."""
        fusion = None
        if self.fusing and self.config is not None and cameras is not None:
            fusion = Fusion(self.config, cameras)
        index = IncidentIndex(fusion, [known.incident for known in stored.values()])  # copied on first join
        batch = IngestBatch(now, history=self.config is not None)
        for message in messages:
            event = message.event
            decision = self.severity_of(event, cameras)
            incident, match = index.assign(event, appearance=appearances.get(event.id))
            if match is None:
                zone_id = None if zone_for_sido is None else zone_for_sido(event.sido_code)
                name = title(event.rule, event.object_class, labels.get(event.camera_id, event.camera_id))
                camera_name = labels.get(event.camera_id)
                batch.open(event, incident, decision, title=name, zone_id=zone_id, camera_name=camera_name)
            else:
                batch.join(event, incident, decision, match)
        return batch

    def _appearances(self, messages: Sequence[EventMessage]) -> dict[uuid.UUID, Histogram]:
        if self.config is None or not self.fusing or self.config.appearance_weight <= 0.0:
            return {}
        found: dict[uuid.UUID, Histogram] = {}
        for message in messages:
            ref = message.event.snapshot
            if message.snapshot_jpeg is None or ref is None:
                continue
            histogram = appearance_histogram(message.snapshot_jpeg, message.event.box, ref)
            if histogram is not None:
                found[message.event.id] = histogram
        return found
