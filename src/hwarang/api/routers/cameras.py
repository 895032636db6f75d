"""``/api/v1/cameras``: the cameras the hub knows, within the user's jurisdiction."""

from typing import Annotated

from fastapi import APIRouter, Depends

from hwarang.api.access import permit
from hwarang.api.rooms import CamerasRoom
from hwarang.domain import Camera, User
from hwarang.hub.sharing.policy import Action, in_jurisdiction

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])


@router.get("", response_model=list[Camera], summary="List cameras")
def list_cameras(
    user: Annotated[User, Depends(permit(Action.CAMERA_VIEW))],
    cameras: CamerasRoom,
) -> list[Camera]:
    """Registered cameras in the user's jurisdiction (positions and names; no imagery)."""
    return [c for c in cameras.all() if in_jurisdiction(user, c.sigungu_code)]
