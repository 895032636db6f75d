"""WebSocket ``/api/v1/ws``: hello, resume from a sequence number, then live incidents.

Each connection receives only the incidents its user may view. The broadcaster hands every
incident to every connection; the connection's sender decides with the user's need-to-know
scope (agency kind and grants in force), re-read at most every :data:`SCOPE_TTL_S` seconds, so a
lifted or expired condition stops the flow within that time, and a disabled user is closed
with 4401. A grant that lets an incident through is audited (``grant.use``) once per connection.

When grants or shares change anywhere (the hub's :class:`AccessChanges`), or one of the user's
grants or shares reaches its end, the connection re-reads the scope at once and, if the user's own
grants or shares moved, sends ``access``: the page then withdraws the evidence on screen and asks
again under the new rights, without waiting for its next poll.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from hwarang.api.access import audit_grant_use, visible_reads
from hwarang.api.auth import user_from_token
from hwarang.api.context import ApiContext, get_context
from hwarang.api.live import (
    CLOSE_TOO_SLOW,
    CLOSE_UNAUTHORIZED,
    AccessChanged,
    AccessMessage,
    ErrorMessage,
    HelloMessage,
    IncidentMessage,
    LiveClient,
    PingRequest,
    PongMessage,
    ResumeRequest,
    TruncatedMessage,
    client_message_adapter,
)
from hwarang.api.rooms import Gate, GateRoom, JournalRoom, UsersRoom
from hwarang.api.tokens import TokenError
from hwarang.domain import DomainModel, Grant, Incident, User
from hwarang.hub.identity.users import UserStore
from hwarang.hub.journal import Journal
from hwarang.hub.sharing.policy import Action, UserScope

logger = logging.getLogger(__name__)

WS_PATH = "/api/v1/ws"
SCOPE_TTL_S = 1.5
"""Longest a connection decides with grants and user details read earlier."""
IDLE_END_CHECK_S = 1.0
"""How often a connection whose user holds no grant or share looks for one reaching its end."""
router = APIRouter(tags=["live"])


@dataclass(frozen=True, slots=True)
class LiveRooms:
    """The hub rooms a live session uses: the journal (last seq), users (re-checked), the access gate."""

    journal: Journal
    users: UserStore
    gate: Gate


def grant_end(grant: Grant) -> datetime:
    """When ``grant`` stops being in force (its expiry, or its revocation if earlier)."""
    return grant.expires_at if grant.revoked_at is None else min(grant.expires_at, grant.revoked_at)


def live_rooms(journal: JournalRoom, users: UsersRoom, gate: GateRoom) -> LiveRooms:
    """The rooms of one live session (a dependency)."""
    return LiveRooms(journal, users, gate)


@router.websocket(WS_PATH)
async def incident_stream(
    websocket: WebSocket,
    context: Annotated[ApiContext, Depends(get_context)],
    rooms: Annotated[LiveRooms, Depends(live_rooms)],
    token: Annotated[
        str | None, Query(description="Access token (browsers cannot set headers here).")
    ] = None,
) -> None:
    """Stream incidents: ``hello``, then on ``resume`` a replay in seq order, then live changes."""
    try:
        user = await run_in_threadpool(user_from_token, context, token)
    except TokenError as exc:
        await websocket.accept()
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=str(exc)[:100])
        return
    try:
        client = context.broadcaster.connect()
    except RuntimeError:
        logger.exception("cannot serve live incidents")
        await websocket.close(code=1011)
        return
    try:
        await websocket.accept()
        await _Session(websocket, context, rooms, client, user).run()
    finally:
        context.broadcaster.disconnect(client)


class _Session:
    """One client connection: a receiver (resume, ping) and a sender (live queue), sharing one lock."""

    def __init__(
        self, websocket: WebSocket, context: ApiContext, rooms: LiveRooms, client: LiveClient, user: User
    ) -> None:
        self._ws = websocket
        self._context = context
        self._rooms = rooms
        self._client = client
        self._user = user
        self._send_lock = asyncio.Lock()
        self._high_water = 0
        self._scope: UserScope | None = None
        self._scope_read = 0.0
        self._scope_read_at = datetime.now(UTC)
        self._audited_grants: set[uuid.UUID] = set()
        self._rights: tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]] | None = None

    async def run(self) -> None:
        last_seq = await run_in_threadpool(lambda: self._rooms.journal.last_seq())
        await self._send(HelloMessage(last_seq=last_seq))
        await self._current_scope()
        # anyio task group (not bare asyncio tasks) so server and test-client cancellation stay exact.
        async with anyio.create_task_group() as group:
            loops = (self._receive_loop, self._send_loop, self._end_watch_loop, self._client.overflowed.wait)
            for loop in loops:
                group.start_soon(self._until_first_ends, loop, group.cancel_scope)
        if self._client.overflowed.is_set():
            with contextlib.suppress(Exception):
                await self._ws.close(code=CLOSE_TOO_SLOW, reason="too slow: reconnect and resume")

    @staticmethod
    async def _until_first_ends(loop: Callable[[], Awaitable[object]], scope: anyio.CancelScope) -> None:
        try:
            await loop()
        except (WebSocketDisconnect, OSError):
            pass  # the client went away: a normal end
        finally:
            scope.cancel()

    async def _receive_loop(self) -> None:
        while True:
            text = await self._ws.receive_text()
            try:
                request = client_message_adapter.validate_json(text)
            except ValidationError as exc:
                detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                await self._send(ErrorMessage(detail=f"invalid message: {detail or exc}"))
                continue
            if isinstance(request, ResumeRequest):
                await self._resume(request.after_seq)
            elif isinstance(request, PingRequest):
                await self._send(PongMessage())

    async def _resume(self, after_seq: int) -> None:
        limit = self._context.settings.ws_replay_max
        fetch = partial(
            visible_reads(self._rooms.gate).incidents,
            self._user,
            limit=limit + 1,
            after_seq=after_seq,
            include_exercise=True,
        )
        async with self._send_lock:
            visible = await run_in_threadpool(fetch)
            await self._audit_grants(visible.grant_ids)
            newest_first = visible.items
            replay = sorted(newest_first[:limit], key=lambda incident: incident.seq)
            if len(newest_first) > limit and replay:
                await self._send_now(TruncatedMessage(after_seq=after_seq, first_seq=replay[0].seq))
            for incident in replay:
                await self._send_now(IncidentMessage(seq=incident.seq, incident=incident))
            self._high_water = max([after_seq, *(incident.seq for incident in replay)])
        logger.debug("replayed %s incidents after seq %s to %s", len(replay), after_seq, self._user.username)

    async def _send_loop(self) -> None:
        while True:
            item = await self._client.queue.get()
            if isinstance(item, AccessChanged):
                self._scope = None  # re-read now, not at the TTL
            scope = await self._current_scope()
            if scope is None:
                await self._ws.close(code=CLOSE_UNAUTHORIZED, reason="user disabled or removed")
                return
            if not isinstance(item, Incident):
                continue
            incident = item
            decision = scope.decide(Action.INCIDENT_VIEW, incident)
            if not decision.allowed:
                continue
            if decision.grant_id is not None:
                await self._audit_grants({decision.grant_id})
            async with self._send_lock:
                if incident.seq <= self._high_water:
                    continue
                await self._send_now(IncidentMessage(seq=incident.seq, incident=incident))

    async def _end_watch_loop(self) -> None:
        """Wake the sender when one of the user's grants or shares reaches its end."""
        while True:
            ends = self._next_end()
            wait = IDLE_END_CHECK_S if ends is None else (ends - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(min(max(wait, 0.0), IDLE_END_CHECK_S))
            ends = self._next_end()
            if ends is not None and ends <= datetime.now(UTC):
                self._client.offer(AccessChanged("ended"))
                await asyncio.sleep(0.2)  # the sender re-reads; do not flood it meanwhile

    def _next_end(self) -> datetime | None:
        scope = self._scope
        if scope is None:
            return None
        ends = [*(grant_end(g) for g in scope.own_grants()), *scope.shares.values()]
        return min((end for end in ends if end > self._scope_read_at), default=None)

    async def _current_scope(self) -> UserScope | None:
        """The user's scope at this moment, re-read when older than SCOPE_TTL_S; None: user gone.

        On every re-read, a change in the user's grants or shares in force is sent as ``access``.
        """
        if self._scope is None or time.monotonic() - self._scope_read > SCOPE_TTL_S:
            self._scope = await run_in_threadpool(self._read_scope)
            self._scope_read, self._scope_read_at = time.monotonic(), datetime.now(UTC)
            await self._tell_rights_change()
        if self._scope is None:
            return None
        scope = self._scope
        return UserScope(scope.user, scope.kind, scope.grants, datetime.now(UTC), scope.shares)

    async def _tell_rights_change(self) -> None:
        scope, now = self._scope, datetime.now(UTC)
        if scope is None:
            return
        grants = frozenset(g.id for g in scope.own_grants())
        shares = frozenset(incident for incident, until in scope.shares.items() if until > now)
        previous, self._rights = self._rights, (grants, shares)
        if previous is not None and previous != self._rights:
            await self._send(AccessMessage(grants=len(grants), shares=len(shares)))

    def _read_scope(self) -> UserScope | None:
        user = self._rooms.users.get(self._user.username)
        return None if user is None else self._rooms.gate.sharing.scope(user)

    async def _audit_grants(self, grant_ids: set[uuid.UUID]) -> None:
        fresh = grant_ids - self._audited_grants
        if fresh:
            self._audited_grants |= fresh
            await run_in_threadpool(
                audit_grant_use, self._rooms.gate, self._user, fresh, Action.INCIDENT_VIEW, "live:" + WS_PATH
            )

    async def _send(self, message: DomainModel) -> None:
        async with self._send_lock:
            await self._send_now(message)

    async def _send_now(self, message: DomainModel) -> None:
        await self._ws.send_text(message.model_dump_json())
