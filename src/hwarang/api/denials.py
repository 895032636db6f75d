"""Every refusal leaves a trace: a 403 answered to a logged-in user is audited ``access.denied``.

Object checks (:func:`hwarang.api.access.refuse`) audit with the object as target and mark their
exception; any other 403 — a role refused by ``permit``, a camera placed outside the user's
jurisdiction, a hub :class:`AccessDeniedError` — is audited here, on ``route:<METHOD> <path>``,
with the reason the user was given. Probing what one may not do cannot go unseen.
"""

import logging

from fastapi import HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from hwarang.api.context import get_context
from hwarang.domain import User

logger = logging.getLogger(__name__)

USER_STATE = "hwarang_user"
"""``request.state`` attribute where ``require_user`` leaves the authenticated user."""


class AuditedRefusal(HTTPException):
    """A 403 whose ``access.denied`` record is already written (by an object check)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, detail=detail)


def remember_user(request: Request, user: User) -> None:
    """Keep the authenticated user on the request, for auditing a refusal later."""
    setattr(request.state, USER_STATE, user)


async def audit_refusal(request: Request, reason: str) -> None:
    """Audit a 403 given to the request's user (nothing when no user was authenticated)."""
    user = getattr(request.state, USER_STATE, None)
    if not isinstance(user, User):
        return
    target = f"route:{request.method} {request.url.path}"
    detail = {"reason": reason[:500]}
    audit = get_context(request).service.audit
    try:
        await run_in_threadpool(audit.record, user.username, "access.denied", target, detail)
    except Exception:  # the refusal stands; the failure to record it is logged loudly
        logger.exception("could not audit the refusal of %s on %s", user.username, target)
