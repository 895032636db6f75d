"""Live video over WebSockets: a camera's fragmented MP4, to users entitled to watch it.

Two routes, one decision (:meth:`UserScope.decide_camera`): ``/api/v1/incidents/{id}/live`` (the
incident's camera, under the incident's evidence decision) and ``/api/v1/cameras/{id}/live`` (from
the map: the camera's area, its owner agencies, others only under a grant of a declared condition).
An entitled user gets the camera's fMP4 as binary messages, ready for Media Source Extensions: the
init segment, then a fragment per GOP. Refused users get HTTP 403 and an ``access.denied`` audit
record. Each view is audited at start (``live.start``) and stop (``live.stop``, with the reason and
bytes sent), a grant's use as ``grant.use``; the decision is re-taken every :data:`RECHECK_S`
seconds, so a view ends within 2 s of the grant or condition that allowed it.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hwarang.api.access import audit_grant_use, refuse
from hwarang.api.auth import user_from_token
from hwarang.api.context import ApiContext, get_context
from hwarang.api.live import CLOSE_UNAUTHORIZED
from hwarang.api.rooms import Gate, GateRoom
from hwarang.api.tokens import TokenError
from hwarang.domain import Camera, Incident, User
from hwarang.hub.evidence.live_relay import LiveViewer
from hwarang.hub.sharing.policy import Action, Decision

logger = logging.getLogger(__name__)

WS_PATH = "/api/v1/incidents/{incident_id}/live"
CAMERA_WS_PATH = "/api/v1/cameras/{camera_id}/live"
RECHECK_S = 1.0
"""How often a running view re-takes its authorisation decision."""
CLOSE_FORBIDDEN = 4403
"""WebSocket close code: the user's right to this view ended (grant lifted, condition over)."""
CLOSE_UNAVAILABLE = 1013
"""WebSocket close code: live view is not available on this hub, or the viewer fell behind."""

router = APIRouter(tags=["live"])
Token = Annotated[str | None, Query(description="Access token (browsers cannot set headers here).")]


@dataclass(frozen=True, slots=True)
class _View:
    """What a view watches: a camera (of ``center_id``), through an incident or not; ``target`` names
    it in the audit."""

    camera_id: str
    center_id: str
    sigungu_code: str
    incident_id: uuid.UUID | None
    target: str


def _decide(gate: Gate, user: User, view: _View) -> Decision:
    """The live decision now (the incident read afresh: its sharing may have changed)."""
    incident: Incident | None = None
    if view.incident_id is not None:
        incident = gate.incidents.get(view.incident_id)
        if incident is None:
            return Decision(False, f"incident {view.incident_id} not found")
    return gate.sharing.decide_camera(user, view.camera_id, view.sigungu_code, incident=incident)


def _authorise(gate: Gate, user: User, view: _View) -> None:
    """Audit and raise 403 when ``user`` may not open ``view``; audit a grant's use when one allowed it."""
    decision = _decide(gate, user, view)
    if not decision.allowed:
        raise refuse(gate, user, Action.EVIDENCE_VIEW, view.target, decision.reason)
    if decision.grant_id is not None:
        audit_grant_use(gate, user, {decision.grant_id}, Action.EVIDENCE_VIEW, view.target)


def _still_allowed(gate: Gate, user: User, view: _View) -> str | None:
    """None while the view may go on, else the reason it must end."""
    decision = _decide(gate, user, view)
    return None if decision.allowed else decision.reason


def _incident_view(gate: Gate, incident_id: uuid.UUID) -> _View:
    incident = gate.incidents.get(incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"incident {incident_id} not found")
    return _View(
        incident.camera_id, incident.center_id, incident.sigungu_code, incident_id, f"incident:{incident_id}"
    )


def _camera_view(camera: Camera | None, camera_id: str) -> _View:
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"camera {camera_id} not found")
    return _View(camera.id, camera.center_id, camera.sigungu_code, None, f"camera:{camera.id}")


@router.websocket(WS_PATH)
async def live_video(
    websocket: WebSocket,
    incident_id: uuid.UUID,
    context: Annotated[ApiContext, Depends(get_context)],
    gate: GateRoom,
    token: Token = None,
) -> None:
    """Stream the incident camera's fMP4 while the user may see the incident's evidence."""
    await _serve(websocket, context, gate, token, lambda: _incident_view(gate, incident_id))


@router.websocket(CAMERA_WS_PATH)
async def camera_live_video(
    websocket: WebSocket,
    camera_id: str,
    context: Annotated[ApiContext, Depends(get_context)],
    gate: GateRoom,
    token: Token = None,
) -> None:
    """Stream a camera's fMP4 (from the map) while the user may see its area's evidence."""
    cameras = context.service.cameras
    await _serve(websocket, context, gate, token, lambda: _camera_view(cameras.get(camera_id), camera_id))


async def _serve(
    websocket: WebSocket, context: ApiContext, gate: GateRoom, token: str | None, find: Callable[[], _View]
) -> None:
    try:
        user = await run_in_threadpool(user_from_token, context, token)
    except TokenError as exc:
        await websocket.accept()
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=str(exc)[:100])
        return
    try:
        view = await run_in_threadpool(find)
        await run_in_threadpool(_authorise, gate, user, view)
    except HTTPException as exc:
        await websocket.send_denial_response(
            JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        )
        return
    relay = context.live_video
    if relay is None:
        await websocket.accept()
        await websocket.close(code=CLOSE_UNAVAILABLE, reason="live view is not available on this hub")
        return
    await websocket.accept()
    target = f"camera:{view.camera_id}"
    detail = {} if view.incident_id is None else {"incident_id": str(view.incident_id)}
    await run_in_threadpool(gate.audit.record, user.username, "live.start", target, detail)
    viewer = relay.join(view.camera_id, center=view.center_id)
    started = time.monotonic()
    reason = "viewer closed"
    try:
        access = context.broadcaster
        reason = await _pump(websocket, gate, user, view, viewer, lambda: access.access_generation)
    finally:
        relay.leave(viewer)
        stop = {
            **detail,
            "reason": reason,
            "bytes_sent": viewer.bytes_sent,
            "seconds": round(time.monotonic() - started, 1),
        }
        # Synchronous: the stop must be recorded even when the connection's task is being cancelled.
        gate.audit.record(user.username, "live.stop", target, stop)


async def _pump(
    websocket: WebSocket,
    gate: Gate,
    user: User,
    view: _View,
    viewer: LiveViewer,
    access_generation: Callable[[], int],
) -> str:
    """Send the camera's fragments; re-check the rights every RECHECK_S and at once when grants or
    shares changed anywhere on the hub."""
    receiver = asyncio.create_task(_drain(websocket))
    next_check = time.monotonic() + RECHECK_S
    seen = access_generation()
    try:
        while True:
            if receiver.done():
                return "viewer closed"
            if viewer.overflowed.is_set():
                await websocket.close(code=CLOSE_UNAVAILABLE, reason="fell behind")
                return "viewer fell behind"
            if time.monotonic() >= next_check or access_generation() != seen:
                seen = access_generation()
                ended = await run_in_threadpool(_still_allowed, gate, user, view)
                if ended is not None:
                    await websocket.close(code=CLOSE_FORBIDDEN, reason=ended[:100])
                    return f"access ended: {ended}"
                next_check = time.monotonic() + RECHECK_S
            try:
                data = await asyncio.wait_for(viewer.queue.get(), timeout=0.25)
            except TimeoutError:
                continue
            try:
                await websocket.send_bytes(data)
            except (WebSocketDisconnect, RuntimeError):
                return "viewer closed"
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until the client goes."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_bytes()
