"""Route-level access: each route declares the :class:`Action` it performs; objects are checked too.

``permit(action)`` is the dependency a route declares (it includes authentication, so the app's
deny-by-default check accepts it); :func:`load_incident` fetches an incident the user may act on,
audits refusals, and audits the use of any grant that allowed it.
"""

import uuid
from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import Depends, HTTPException, status

from hwarang.api.auth import require_user
from hwarang.api.denials import AuditedRefusal
from hwarang.api.rooms import Gate
from hwarang.domain import Incident, User
from hwarang.hub.sharing.policy import Action, role_allows
from hwarang.hub.sharing.visibility import VisibleReads

__all__ = ["Action", "audit_grant_use", "load_incident", "permit", "refuse", "visible_reads"]


def permit(action: Action) -> Callable[..., User]:
    """A dependency admitting users whose roles allow ``action`` (401 without a token, 403 otherwise).

    A refusal is audited ``access.denied`` on ``route:<METHOD> <path>`` (:mod:`hwarang.api.denials`).
    """

    def _check(user: Annotated[User, Depends(require_user)]) -> User:
        decision = role_allows(user, action)
        if not decision.allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=decision.reason)
        return user

    _check.__name__ = f"permit_{action.value.replace('.', '_')}"
    setattr(_check, "hwarang_action", action)  # noqa: B010 - read by the authorisation matrix test
    return _check


def load_incident(gate: Gate, user: User, incident_id: uuid.UUID, action: Action) -> Incident:
    """The incident when ``user`` may perform ``action`` on it; 404 when missing, 403 with the reason."""
    incident = gate.incidents.get(incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"incident {incident_id} not found")
    decision = gate.sharing.decide(user, action, incident)
    target = f"incident:{incident_id}"
    if not decision.allowed:
        raise refuse(gate, user, action, target, decision.reason)
    if decision.grant_id is not None:
        audit_grant_use(gate, user, {decision.grant_id}, action, target)
    return incident


def refuse(gate: Gate, user: User, action: Action, target: str, reason: str) -> HTTPException:
    """Audit ``access.denied`` on ``target`` and return the 403 to raise."""
    gate.audit.record(user.username, "access.denied", target, {"action": action.value, "reason": reason})
    return AuditedRefusal(reason)


def audit_grant_use(
    gate: Gate, user: User, grant_ids: Iterable[uuid.UUID], action: Action, target: str
) -> None:
    """Audit ``grant.use`` once for a request that relied on grants (no record when none was used)."""
    ids = sorted(str(grant_id) for grant_id in grant_ids)
    if ids:
        detail = {"action": action.value, "grant_ids": ids, "target": target}
        gate.audit.record(user.username, "grant.use", f"grant:{ids[0]}", detail)


def visible_reads(gate: Gate) -> VisibleReads:
    """Need-to-know filtered reads over the gate's hub."""
    return VisibleReads(gate.database, gate.sharing)
