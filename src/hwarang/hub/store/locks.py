"""The hub's one lock order: hub_state first, then incident rows, then task rows.

Every writer that changes incidents, tasks or the audit trail ends up locking the hub_state row
(sequence numbers, the audit chain). Taking it before any incident or task row gives all writers
one order on PostgreSQL, so none waits on another in a cycle (a deadlock). SQLite write
transactions are exclusive already; there ``FOR UPDATE`` is left out by SQLAlchemy.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.hub.store.models import HUB_STATE_ID, HubStateRow


def lock_hub_state(session: Session) -> None:
    """Lock the hub_state row until the transaction ends (call before locking any other row)."""
    session.execute(select(HubStateRow.id).where(HubStateRow.id == HUB_STATE_ID).with_for_update())
