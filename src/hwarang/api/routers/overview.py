"""``/api/v1/statistics`` and ``/api/v1/search``: the overview of a shift and full-text search,
both over the incidents the caller may view (need-to-know applies as in the incident list)."""

import threading
import weakref
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import select

from hwarang.api.access import audit_grant_use, permit, visible_reads
from hwarang.api.rooms import DatabaseRoom, GateRoom
from hwarang.domain import Incident, User
from hwarang.hub.fusion.search import IncidentSearch, SearchError
from hwarang.hub.fusion.statistics import IncidentStatistics, incident_statistics
from hwarang.hub.sharing.policy import Action
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import incidents_from_rows
from hwarang.hub.store.models import IncidentRow

router = APIRouter(prefix="/api/v1", tags=["overview"])

STATISTICS_LIMIT = 5000
"""Most incidents (the newest changed) one overview counts."""
SEARCH_CANDIDATES = 4
"""Matches fetched per result wanted, before need-to-know filtering."""

_indexes: "weakref.WeakKeyDictionary[Database, IncidentSearch]" = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def search_index_of(database: Database) -> IncidentSearch:
    """The search index of one store (created on first use)."""
    with _indexes_lock:
        index = _indexes.get(database)
        if index is None:
            index = _indexes[database] = IncidentSearch(database)
        return index


@router.get(
    "/statistics", response_model=IncidentStatistics, summary="Statistics of the incidents you may view"
)
def get_statistics(
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    gate: GateRoom,
    hours: Annotated[
        int, Query(ge=1, le=24 * 31, description="Incidents first detected in the last N hours.")
    ] = 24,
    include_exercise: Annotated[bool, Query(description="Count exercise incidents too.")] = False,
) -> IncidentStatistics:
    """Counts by zone, sido, local government, severity, state and KST hour; time to acknowledge and to
    resolve (median, 90th percentile); false-alarm share per camera."""
    visible = visible_reads(gate).incidents(user, limit=STATISTICS_LIMIT, include_exercise=include_exercise)
    since = datetime.now(UTC) - timedelta(hours=hours)
    audit_grant_use(gate, user, visible.grant_ids, Action.INCIDENT_VIEW, "incidents:statistics")
    return incident_statistics(i for i in visible.items if i.first_seen >= since)


@router.get("/search", response_model=list[Incident], summary="Full-text search of incidents")
def search_incidents(
    user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    gate: GateRoom,
    database: DatabaseRoom,
    q: Annotated[
        str, Query(min_length=1, max_length=200, description="Words of titles, notes or camera names.")
    ],
    limit: Annotated[int, Query(ge=1, le=200, description="Most incidents returned.")] = 50,
) -> list[Incident]:
    """Incidents whose title, rule or camera name or notes hold every word of ``q`` (prefixes), best first;
    422 when ``q`` has no word."""
    try:
        ids = search_index_of(database).search(q, limit=limit * SEARCH_CANDIDATES)
    except SearchError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    with database.session() as session:
        rows = list(session.scalars(select(IncidentRow).where(IncidentRow.id.in_(ids))))
        found = {incident.id: incident for incident in incidents_from_rows(session, rows)}
    ranked = [found[i] for i in ids if i in found]
    visible = visible_reads(gate).filter_incidents(user, ranked)
    audit_grant_use(gate, user, visible.grant_ids, Action.INCIDENT_VIEW, "incidents:search")
    return visible.items[:limit]
