"""``GET /api/v1/health``: public liveness, the hub's conditions and its counters.

``status`` is ``ok``; ``degraded`` while the hub works with a fault it waits out (the store is
unavailable or nearly full: ingest pauses and nothing is lost); ``failed`` (HTTP 503) when it
cannot work as it should (a damaged store); ``error`` (503) when the check itself broke.
``conditions`` names every fault with its reason.
"""

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field

import hwarang
from hwarang.api.context import ApiContext, get_context
from hwarang.api.rooms import HealthRoom, IncidentsRoom, JournalRoom
from hwarang.domain import DomainModel
from hwarang.hub.errors import StoreError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class HealthCondition(DomainModel):
    """One fault the hub knows of."""

    name: str = Field(description="Which part: 'store', 'disk', 'integrity', ...")
    level: Literal["degraded", "failed"]
    reason: str


class HealthResponse(DomainModel):
    """Whether the hub works, with its conditions and counters."""

    status: Literal["ok", "degraded", "failed", "error"]
    version: str
    conditions: list[HealthCondition] = Field(
        default_factory=list, description="Active faults, worst first (empty when ok)."
    )
    last_seq: int | None = Field(default=None, description="Newest incident change; None when unavailable.")
    hub: dict[str, int] = Field(default_factory=dict, description="Hub counters (events, incidents, ...).")
    live: dict[str, int] = Field(default_factory=dict, description="WebSocket fan-out counters.")
    extra: dict[str, object] = Field(default_factory=dict, description="Other components, e.g. edge cameras.")
    error: str | None = None


@router.get("/api/v1/health", response_model=HealthResponse, summary="Health (no login needed)")
def health(
    response: Response,
    context: Annotated[ApiContext, Depends(get_context)],
    journal: JournalRoom,
    incidents: IncidentsRoom,
    board: HealthRoom,
) -> HealthResponse:
    """Report status, conditions, version, last incident seq, hub and live counters."""
    live = context.broadcaster.stats()
    conditions = [
        HealthCondition(name=c.name, level=c.level, reason=c.reason)
        for c in board.conditions()
        if c.level != "ok"
    ]
    try:
        extra = context.health_extra() if context.health_extra is not None else {}
        if context.live_video is not None:
            extra = {**extra, "live_video": context.live_video.stats()}
        last_seq: int | None = None
        counters: dict[str, int] = {}
        try:
            last_seq = journal.last_seq()
            counters = incidents.health()
        except StoreError as exc:
            conditions.append(
                HealthCondition(name="store", level="degraded", reason=f"store unreadable: {exc}")
            )
    except Exception as exc:
        logger.exception("health check failed")
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthResponse(
            status="error", version=hwarang.__version__, live=live, error=type(exc).__name__
        )
    level: Literal["ok", "degraded", "failed"] = "ok"
    if conditions:
        level = "failed" if any(c.level == "failed" for c in conditions) else "degraded"
    if level == "failed":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthResponse(
        status=level,
        version=hwarang.__version__,
        conditions=_unique(conditions),
        last_seq=last_seq,
        hub=counters,
        live=live,
        extra=extra,
    )


def _unique(conditions: list[HealthCondition]) -> list[HealthCondition]:
    seen: set[str] = set()
    out: list[HealthCondition] = []
    for condition in conditions:
        if condition.name not in seen:
            seen.add(condition.name)
            out.append(condition)
    return out
