"""Cameras and their rules from the page: read, change, add, picture, export (administrators).

Every change is validated with the site file's pydantic models (422 naming the field), stored as a
new version (409 when the version the client edited is no longer current), audited as
``camera.configure`` and sent to the camera's edge, which answers (see ``edge`` on the version).
A camera outside the user's jurisdiction is refused (403, audited as ``access.denied``); the
export holds only the cameras in it.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import HTTPConnection

from hwarang.api.access import permit, refuse
from hwarang.api.context import get_context
from hwarang.api.rooms import CamerasRoom, Gate, GateRoom
from hwarang.domain import User
from hwarang.hub.errors import HubError
from hwarang.hub.fusion.camera_config import CameraConfigService, SendError
from hwarang.hub.fusion.camera_versions import ConfigVersion
from hwarang.hub.fusion.cameras import CameraRegistry
from hwarang.hub.sharing.policy import Action, in_jurisdiction

router = APIRouter(tags=["cameras"])

_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def _service(conn: HTTPConnection) -> CameraConfigService:
    service = get_context(conn).camera_config
    if service is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="camera configuration is not enabled")
    return service


ConfigRoom = Annotated[CameraConfigService, Depends(_service)]
Admin = Annotated[User, Depends(permit(Action.CAMERA_CONFIGURE))]


class ConfigChange(BaseModel):
    """A new configuration for a camera, made from ``version`` (the one the client read)."""

    version: int = Field(ge=0, description="The version the change was made from (409 if not current).")
    config: dict[str, Any] = Field(
        description="The camera as in the site YAML (id, source, position, rules...)."
    )


class NewCamera(BaseModel):
    """A camera to add to one of the hub's centers."""

    center_id: str = Field(pattern=_ID, description="The center whose edge runs it.")
    config: dict[str, Any] = Field(description="The camera as in the site YAML.")


def _checked(
    room: CameraConfigService, config: dict[str, Any], camera_id: str | None = None
) -> dict[str, Any]:
    """The validated config; 422 with the field's path (under ``config``) when invalid."""
    try:
        checked = room.check(config)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", "config", *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        raise RequestValidationError(errors) from None
    if camera_id is not None and checked.get("id") != camera_id:
        raise RequestValidationError(
            [
                {
                    "loc": ["body", "config", "id"],
                    "msg": f"must be {camera_id!r} (the camera changed)",
                    "type": "value_error",
                }
            ]
        )
    return checked


def _current(
    room: CameraConfigService, cameras: CameraRegistry, gate: Gate, user: User, camera_id: str
) -> ConfigVersion:
    """The camera's current version when the user may configure it; 404 unknown, 403 not theirs."""
    camera = cameras.get(camera_id)
    current = room.current(camera_id)
    if camera is None or current is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"camera {camera_id} not found")
    if not in_jurisdiction(user, camera.sigungu_code):
        reason = "the camera is outside your jurisdiction"
        raise refuse(gate, user, Action.CAMERA_CONFIGURE, f"camera:{camera_id}", reason)
    return current


@router.get(
    "/api/v1/cameras/{camera_id}/config", response_model=ConfigVersion, summary="A camera's configuration"
)
def get_config(
    camera_id: str, user: Admin, room: ConfigRoom, cameras: CamerasRoom, gate: GateRoom
) -> ConfigVersion:
    """The newest version (0: the site file's), with the edge's answer to it."""
    return _current(room, cameras, gate, user, camera_id)


@router.put(
    "/api/v1/cameras/{camera_id}/config",
    response_model=ConfigVersion,
    summary="Change a camera's configuration",
    responses={
        409: {"description": "The version changed meanwhile."},
        502: {"description": "Stored, not sent."},
    },
)
async def put_config(
    camera_id: str, change: ConfigChange, user: Admin, room: ConfigRoom, cameras: CamerasRoom, gate: GateRoom
) -> ConfigVersion:
    """Store the next version and send it to the edge; the edge's answer shows on the version later."""
    current = _current(room, cameras, gate, user, camera_id)
    config = _checked(room, change.config, camera_id)
    if change.version != current.version:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"version {current.version} is current, not {change.version}; reload it",
        )
    _in_scope(room, user, current.center_id, config)
    try:
        return await room.change(current, config, user.username)
    except SendError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc)) from None


@router.post(
    "/api/v1/cameras",
    response_model=ConfigVersion,
    status_code=status.HTTP_201_CREATED,
    summary="Add a camera",
    responses={409: {"description": "The camera id is taken."}},
)
async def add_camera(new: NewCamera, user: Admin, room: ConfigRoom) -> ConfigVersion:
    """Version 1 of a new camera, sent to its center's edge (which starts it)."""
    config = _checked(room, new.config)
    if new.center_id not in room.centers():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"center {new.center_id} is not here")
    _in_scope(room, user, new.center_id, config)
    try:
        return await room.add(new.center_id, config, user.username)
    except SendError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc)) from None


def _in_scope(room: CameraConfigService, user: User, center_id: str, config: dict[str, Any]) -> None:
    """403 when the camera's position lies outside the user's jurisdiction; 422 outside any region."""
    try:
        camera = room.camera_of(center_id, config)
    except HubError as exc:
        raise RequestValidationError(
            [{"loc": ["body", "config", "position"], "msg": str(exc), "type": "value_error"}]
        ) from None
    if not in_jurisdiction(user, camera.sigungu_code):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="the camera's position is outside your jurisdiction"
        )


@router.get(
    "/api/v1/cameras/{camera_id}/picture",
    response_class=Response,
    summary="A camera's current picture (JPEG; rules are drawn in the frame's pixels)",
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "No picture now."}},
)
async def get_picture(
    camera_id: str, user: Admin, room: ConfigRoom, cameras: CamerasRoom, gate: GateRoom
) -> Response:
    """The camera's last analysed frame, from its edge (asked over the bus when the edge runs
    elsewhere); ``X-Frame-Width``/``-Height`` give the frame's size when the JPEG was made smaller."""
    current = _current(room, cameras, gate, user, camera_id)
    found = await room.picture(camera_id, current.center_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"camera {camera_id}: no picture now")
    jpeg, width, height = found
    gate.audit.record(user.username, "camera.picture", f"camera:{camera_id}", {"bytes": len(jpeg)})
    headers = {"Cache-Control": "no-store"}
    if width and height:
        headers.update({"X-Frame-Width": str(width), "X-Frame-Height": str(height)})
    return Response(jpeg, media_type="image/jpeg", headers=headers)


@router.get(
    "/api/v1/config/export.yaml",
    response_class=PlainTextResponse,
    summary="The cameras as configured now, as the site YAML's edge section",
    responses={200: {"content": {"application/yaml": {}}}},
)
def export_yaml(user: Admin, room: ConfigRoom, cameras: CamerasRoom) -> PlainTextResponse:
    """Site file plus every saved version, cameras in the user's jurisdiction only."""
    mine = {c.id for c in cameras.all() if in_jurisdiction(user, c.sigungu_code)}
    return PlainTextResponse(
        room.export_yaml(lambda camera_id: camera_id in mine), media_type="application/yaml"
    )
