"""The hub's journal: hub-wide sequence numbers and the notification of changed incidents.

Every writer that changes an incident takes a new seq from :meth:`Journal.next_seq` inside its
transaction and, after the commit, announces the incident with :meth:`Journal.notify`; live
WebSocket clients, the TAK feed and the drone alerts listen with :meth:`Journal.add_listener`.
"""

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hwarang.domain import Incident
from hwarang.hub.errors import StoreError
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import HUB_STATE_ID, HubStateRow

logger = logging.getLogger(__name__)

__all__ = ["IncidentListener", "Journal"]

IncidentListener = Callable[[Incident], None]


class Journal:
    """Sequence numbers of ``database`` and the listeners told of every changed incident."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._listeners: list[IncidentListener] = []
        self._listeners_lock = threading.Lock()

    def next_seq(self, session: Session, count: int = 1) -> int:
        """Allocate ``count`` sequence numbers in ``session``; returns the last one."""
        # UPDATE ... RETURNING row-locks hub_state until commit, so concurrent writers queue up.
        stmt = (
            update(HubStateRow)
            .where(HubStateRow.id == HUB_STATE_ID)
            .values(last_seq=HubStateRow.last_seq + count)
            .returning(HubStateRow.last_seq)
            .execution_options(synchronize_session=False)
        )
        seq = session.execute(stmt).scalar_one_or_none()
        if seq is None:
            raise StoreError(f"hub_state row missing in {self._database.masked_url!r}: run migrations first")
        return int(seq)

    def last_seq(self) -> int:
        """Sequence number of the newest incident change."""
        with self._database.session() as session:
            value = session.scalar(select(HubStateRow.last_seq).where(HubStateRow.id == HUB_STATE_ID))
        return int(value or 0)

    def add_listener(self, listener: IncidentListener) -> None:
        """Call ``listener`` (from the writing thread) with every created or changed incident."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def notify(self, incident: Incident) -> None:
        """Tell every listener about ``incident`` (after its transaction committed)."""
        with self._listeners_lock:
            listeners = tuple(self._listeners)
        for listener in listeners:
            try:
                listener(incident)
            except Exception:
                logger.exception(
                    "incident listener %r failed on incident %s (seq %s)", listener, incident.id, incident.seq
                )
