"""Which center brought a piece of evidence: referring to its hash grants nothing.

A snapshot belongs to the center whose event first brought it to this hub (the earliest received
event naming the hash; only the center holding the image can name its SHA-256 first). Events of
other centers that name the same hash afterwards do not bring it: the snapshot is visible, and
exported, only through incidents holding an event of its own center that names it.
"""

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.hub.store.models import EventRow


def snapshot_origins(session: Session, hashes: Iterable[str]) -> dict[str, str]:
    """The center each snapshot hash came from (hashes no event names are left out)."""
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    stmt = (
        select(EventRow.snapshot_sha256, EventRow.center_id)
        .where(EventRow.snapshot_sha256.in_(wanted))
        .order_by(EventRow.received_at, EventRow.id)
    )
    origins: dict[str, str] = {}
    for sha256, center_id in session.execute(stmt):
        if sha256 is not None:
            origins.setdefault(sha256, center_id)
    return origins


def snapshot_holders(session: Session, sha256: str) -> list[uuid.UUID]:
    """Incidents through which snapshot ``sha256`` may be seen: those with an event of its own center."""
    center = snapshot_origins(session, [sha256]).get(sha256)
    if center is None:
        return []
    stmt = (
        select(EventRow.incident_id)
        .where(EventRow.snapshot_sha256 == sha256, EventRow.center_id == center)
        .where(EventRow.incident_id.is_not(None))
        .distinct()
    )
    return [incident_id for incident_id in session.scalars(stmt) if incident_id is not None]


def owned_snapshots(session: Session, pairs: Iterable[tuple[str, str]]) -> set[str]:
    """Of ``(sha256, center_id)`` pairs from events, the hashes that event's center brought."""
    items = list(pairs)
    origins = snapshot_origins(session, (sha256 for sha256, _ in items))
    return {sha256 for sha256, center in items if origins.get(sha256) == center}
