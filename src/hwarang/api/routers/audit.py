"""``/api/v1/audit``: the hash-chained audit trail, for evaluators and administrators."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hwarang.api.access import Action, permit
from hwarang.api.rooms import AuditRoom
from hwarang.domain import User
from hwarang.hub.evidence.audit import AuditEntry
from hwarang.hub.evidence.chain import ChainReport

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=list[AuditEntry], summary="Audit records, newest first")
def list_audit(
    _user: Annotated[User, Depends(permit(Action.AUDIT_VIEW))],
    audit: AuditRoom,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most records returned.")] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, description="Only records with a smaller id (paging).")
    ] = None,
    actor: Annotated[str | None, Query(max_length=128, description="Only this actor.")] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="Only this action, or a prefix ending in '.'.")
    ] = None,
    target: Annotated[str | None, Query(max_length=256, description="Only targets containing this.")] = None,
) -> list[AuditEntry]:
    """Records with their ``prev_hash`` and ``hash``; page with ``before_id`` = the last id seen."""
    return audit.entries(limit, before_id=before_id, actor=actor, action=action, target=target)


@router.get("/verify", response_model=ChainReport, summary="Verify the audit trail's hash chain")
def verify_audit(
    _user: Annotated[User, Depends(permit(Action.AUDIT_VIEW))],
    audit: AuditRoom,
) -> ChainReport:
    """Walk every record; ``ok`` false and ``problem`` naming the first edited, deleted or inserted one."""
    return audit.verify()
