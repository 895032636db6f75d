"""``/api/v1/cameras``: the cameras the hub knows."""

from typing import Annotated

from fastapi import APIRouter, Depends

from hwarang.api.auth import require_user
from hwarang.api.context import ApiContext, get_context
from hwarang.domain import Camera

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"], dependencies=[Depends(require_user)])


@router.get("", response_model=list[Camera], summary="List cameras")
def list_cameras(context: Annotated[ApiContext, Depends(get_context)]) -> list[Camera]:
    """Every registered camera."""
    return context.service.list_cameras()
