"""``GET /api/v1/health``: public liveness and counters."""

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field

import hwarang
from hwarang.api.context import ApiContext, get_context
from hwarang.api.rooms import IncidentsRoom, JournalRoom
from hwarang.domain import DomainModel

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class HealthResponse(DomainModel):
    """Whether the hub works, with its counters."""

    status: Literal["ok", "error"]
    version: str
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
) -> HealthResponse:
    """Report status, version, last incident seq, hub and live counters; 503 when the hub fails."""
    live = context.broadcaster.stats()
    try:
        extra = context.health_extra() if context.health_extra is not None else {}
        return HealthResponse(
            status="ok",
            version=hwarang.__version__,
            last_seq=journal.last_seq(),
            hub=incidents.health(),
            live=live,
            extra=extra,
        )
    except Exception as exc:
        logger.exception("health check failed")
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthResponse(
            status="error", version=hwarang.__version__, live=live, error=type(exc).__name__
        )
