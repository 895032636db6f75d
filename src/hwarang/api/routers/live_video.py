"""WebSocket ``/api/v1/incidents/{incident_id}/live``: the live video of an incident's camera.

A user who may see the incident's evidence (role, need-to-know, jurisdiction, law-gated grants:
the decision of the incident's clips) gets the camera's fragmented MP4 as binary messages, ready for
Media Source Extensions: the init segment, then a fragment per GOP. Refused users get HTTP 403 and
an ``access.denied`` audit record. Each view is audited at start (``live.start``) and stop
(``live.stop``, with the reason and bytes sent); the decision is re-taken every
:data:`RECHECK_S` seconds, so a view ends within 2 s of the grant or condition that allowed it.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hwarang.api.access import load_incident
from hwarang.api.auth import user_from_token
from hwarang.api.context import ApiContext, get_context
from hwarang.api.live import CLOSE_UNAUTHORIZED
from hwarang.api.rooms import Gate, GateRoom
from hwarang.api.tokens import TokenError
from hwarang.domain import Incident, User
from hwarang.hub.evidence.live_relay import LiveViewer
from hwarang.hub.sharing.policy import Action, role_allows

logger = logging.getLogger(__name__)

WS_PATH = "/api/v1/incidents/{incident_id}/live"
RECHECK_S = 1.0
"""How often a running view re-takes its authorisation decision."""
CLOSE_FORBIDDEN = 4403
"""WebSocket close code: the user's right to this view ended (grant lifted, condition over)."""
CLOSE_UNAVAILABLE = 1013
"""WebSocket close code: live view is not available on this hub, or the viewer fell behind."""

router = APIRouter(tags=["live"])


def _authorise(gate: Gate, user: User, incident_id: uuid.UUID) -> Incident:
    decision = role_allows(user, Action.EVIDENCE_VIEW)
    if not decision.allowed:
        target = f"incident:{incident_id}"
        gate.audit.record(
            user.username, "access.denied", target, {"action": "live.view", "reason": decision.reason}
        )
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=decision.reason)
    return load_incident(gate, user, incident_id, Action.EVIDENCE_VIEW)


def _still_allowed(gate: Gate, user: User, incident: Incident) -> str | None:
    """None while the view may go on, else the reason it must end."""
    current = gate.incidents.get(incident.id) or incident
    decision = gate.sharing.decide(user, Action.EVIDENCE_VIEW, current)
    return None if decision.allowed else decision.reason


@router.websocket(WS_PATH)
async def live_video(
    websocket: WebSocket,
    incident_id: uuid.UUID,
    context: Annotated[ApiContext, Depends(get_context)],
    gate: GateRoom,
    token: Annotated[
        str | None, Query(description="Access token (browsers cannot set headers here).")
    ] = None,
) -> None:
    """Stream the incident camera's fMP4 while the user may see it."""
    try:
        user = await run_in_threadpool(user_from_token, context, token)
    except TokenError as exc:
        await websocket.accept()
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=str(exc)[:100])
        return
    try:
        incident = await run_in_threadpool(_authorise, gate, user, incident_id)
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
    target = f"camera:{incident.camera_id}"
    detail = {"incident_id": str(incident_id)}
    await run_in_threadpool(gate.audit.record, user.username, "live.start", target, detail)
    viewer = relay.join(incident.camera_id, center=incident.center_id)
    started = time.monotonic()
    reason = "viewer closed"
    try:
        reason = await _pump(websocket, gate, user, incident, viewer)
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


async def _pump(websocket: WebSocket, gate: Gate, user: User, incident: Incident, viewer: LiveViewer) -> str:
    receiver = asyncio.create_task(_drain(websocket))
    next_check = time.monotonic() + RECHECK_S
    try:
        while True:
            if receiver.done():
                return "viewer closed"
            if viewer.overflowed.is_set():
                await websocket.close(code=CLOSE_UNAVAILABLE, reason="fell behind")
                return "viewer fell behind"
            if time.monotonic() >= next_check:
                ended = await run_in_threadpool(_still_allowed, gate, user, incident)
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
