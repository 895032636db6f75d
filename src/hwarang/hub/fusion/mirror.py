"""The open incidents fusion may join, mirrored in memory and kept exact by the change sequence.

Every change of an incident gives it a new hub-wide ``seq``; seqs are allocated under a row lock
of ``hub_state`` held until commit, so they commit in order and ``hub_state.last_seq`` names the
newest committed change. The mirror holds every open incident whose ``last_seen`` is at or after
:attr:`IncidentMirror.since`, as of hub seq :attr:`IncidentMirror.seq`. Before each batch,
:meth:`IncidentMirror.sync` reads ``last_seq``; when another writer (the API, another hub process)
moved it, one indexed query reads the incidents changed since. A batch older than ``since``, or
the first batch, reads every open incident from its start instead. Ingest thus costs one tiny query
per batch for its candidates, however many cameras and incidents there are.
"""

import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hwarang.hub.fusion.correlation import OpenIncident
from hwarang.hub.fusion.rows import (
    EventList,
    changed_since,
    current_seq,
    is_open,
    open_incident,
    open_incidents_since,
)

CAPACITY = 50_000
"""Most incidents held; past it the least recently seen go and :attr:`IncidentMirror.since` moves on."""
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Known:
    """An incident as of one seq: its column values, its events (None: not known) and fusion's view."""

    seq: int
    values: Mapping[str, Any]
    events: EventList | None
    incident: OpenIncident
    """What fusion needs of it, with its newest look; never changed (fusion copies it first)."""

    @classmethod
    def loaded(cls, values: Mapping[str, Any], previous: "Known | None") -> "Known":
        """An incident read from the store (keeping the look ``previous`` had)."""
        incident = open_incident(values)
        incident.appearance = None if previous is None else previous.incident.appearance
        return cls(int(values["seq"]), values, None, incident)


class IncidentMirror:
    """Open incidents by id and by camera (every camera that saw one of their objects)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.seq: int | None = None
        self.since: datetime | None = None
        self._capacity = CAPACITY if capacity is None else capacity
        self._known: dict[uuid.UUID, Known] = {}
        self._by_camera: dict[str, set[uuid.UUID]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._known)

    def sync(self, session: Session, start: datetime) -> None:
        """Bring the mirror up to the store's newest change, covering incidents seen from ``start``."""
        last = current_seq(session)
        with self._lock:
            if self.seq is not None and self.since is not None and self.since <= start and last >= self.seq:
                if last > self.seq:
                    for values in changed_since(session, self.seq):
                        self._apply(values)
                    self.seq = last
                return
            rows = open_incidents_since(session, start)
            previous = self._known
            self._known, self._by_camera = {}, {}
            for values in rows:
                kept = previous.get(values["id"])
                self._put(
                    kept if kept is not None and kept.seq == values["seq"] else Known.loaded(values, kept)
                )
            self.seq, self.since = last, start

    def candidates(self, cameras: Iterable[str], start: datetime, end: datetime) -> dict[uuid.UUID, Known]:
        """Open incidents of ``cameras`` whose span meets [start, end] (call :meth:`sync` first)."""
        found: dict[uuid.UUID, Known] = {}
        with self._lock:
            for camera_id in cameras:
                for incident_id in self._by_camera.get(camera_id, ()):
                    known = self._known[incident_id]
                    if known.incident.last_seen >= start and known.incident.first_seen <= end:
                        found[incident_id] = known
        return found

    def commit(self, known: Mapping[uuid.UUID, Known], first_seq: int, last_seq: int) -> None:
        """Take in what a committed batch wrote with seqs ``first_seq..last_seq``."""
        with self._lock:
            for item in known.values():
                self._apply_known(item)
            if self.seq is not None and self.seq >= first_seq - 1:
                self.seq = max(self.seq, last_seq)  # nobody else changed anything in between
            if len(self._known) > self._capacity:
                self._shrink()

    def forget(self, incident_ids: Iterable[uuid.UUID]) -> None:
        """Drop incidents found changed behind the mirror's back (they are read again when changed)."""
        with self._lock:
            for incident_id in incident_ids:
                self._drop(incident_id)

    def _apply(self, values: Mapping[str, Any]) -> None:
        previous = self._known.get(values["id"])
        if previous is not None and previous.seq >= values["seq"]:
            return
        if is_open(values) and self.since is not None and values["last_seen"] >= self.since:
            self._put(Known.loaded(values, previous))
        else:
            self._drop(values["id"])

    def _apply_known(self, item: Known) -> None:
        previous = self._known.get(item.incident.id)
        if previous is not None and previous.seq >= item.seq:
            return
        if is_open(item.values) and self.since is not None and item.incident.last_seen >= self.since:
            self._put(item)
        else:
            self._drop(item.incident.id)

    def _put(self, item: Known) -> None:
        incident = item.incident
        self._drop(incident.id)
        self._known[incident.id] = item
        for camera_id in incident.cameras:
            self._by_camera.setdefault(camera_id, set()).add(incident.id)

    def _drop(self, incident_id: uuid.UUID) -> None:
        item = self._known.pop(incident_id, None)
        if item is None:
            return
        for camera_id in item.incident.cameras:
            ids = self._by_camera.get(camera_id)
            if ids is not None:
                ids.discard(incident_id)
                if not ids:
                    del self._by_camera[camera_id]

    def _shrink(self) -> None:
        """Drop the least recently seen quarter; ``since`` moves past them."""
        ordered = sorted(self._known.values(), key=lambda item: item.incident.last_seen)
        dropped = ordered[: max(1, len(ordered) // 4)]
        for item in dropped:
            self._drop(item.incident.id)
        horizon = dropped[-1].incident.last_seen + _TICK
        self.since = horizon if self.since is None else max(self.since, horizon)
