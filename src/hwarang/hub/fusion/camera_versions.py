"""Versions of camera configurations in the hub's database, each audited, with the edge's answer."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hwarang.domain import CommandAck
from hwarang.hub.errors import ConflictError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import CameraConfigRow

__all__ = ["CameraConfigStore", "ConfigVersion", "EdgeAnswer"]


class EdgeAnswer(BaseModel):
    """What the edge said about a version."""

    model_config = ConfigDict(frozen=True)

    status: str
    reason: str | None = None
    how: str | None = None
    at: datetime | None = None


class ConfigVersion(BaseModel):
    """One camera's configuration at one version (0: the site file's, never sent)."""

    model_config = ConfigDict(frozen=True)

    camera_id: str
    center_id: str
    version: int
    config: dict[str, Any]
    command_id: uuid.UUID | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    edge: EdgeAnswer | None = None


def _version(row: CameraConfigRow) -> ConfigVersion:
    answer = None
    if row.ack_status is not None:
        answer = EdgeAnswer(status=row.ack_status, reason=row.ack_reason, how=row.ack_how, at=row.acked_at)
    return ConfigVersion(
        camera_id=row.camera_id,
        center_id=row.center_id,
        version=row.version,
        config=dict(row.payload),
        command_id=row.command_id,
        created_by=row.created_by,
        created_at=row.created_at,
        edge=answer,
    )


class CameraConfigStore:
    """Configuration versions per camera in ``database``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def latest(self, camera_id: str) -> ConfigVersion | None:
        """The newest stored version of a camera, or None (it runs its site-file configuration)."""
        with self._database.session() as session:
            row = session.scalars(
                select(CameraConfigRow)
                .where(CameraConfigRow.camera_id == camera_id)
                .order_by(CameraConfigRow.version.desc())
                .limit(1)
            ).first()
            return None if row is None else _version(row)

    def latest_all(self) -> dict[str, ConfigVersion]:
        """The newest stored version of every camera that has one."""
        newest = (
            select(CameraConfigRow.camera_id, func.max(CameraConfigRow.version).label("version"))
            .group_by(CameraConfigRow.camera_id)
            .subquery()
        )
        query = select(CameraConfigRow).join(
            newest,
            (CameraConfigRow.camera_id == newest.c.camera_id) & (CameraConfigRow.version == newest.c.version),
        )
        with self._database.session() as session:
            return {row.camera_id: _version(row) for row in session.scalars(query)}

    def save(
        self, camera_id: str, center_id: str, expected: int, config: dict[str, Any], actor: str
    ) -> ConfigVersion:
        """Store version ``expected + 1``; ConflictError when the newest stored one is not ``expected``."""
        now = datetime.now(UTC)
        row = CameraConfigRow(
            camera_id=camera_id,
            version=expected + 1,
            center_id=center_id,
            payload=config,
            command_id=uuid.uuid4(),
            created_by=actor,
            created_at=now,
        )
        try:
            with self._database.session(write=True) as session:
                current = session.scalar(
                    select(func.max(CameraConfigRow.version)).where(CameraConfigRow.camera_id == camera_id)
                )
                if (current or 0) != expected:
                    raise ConflictError(
                        f"camera {camera_id}: version {current or 0} is current, not {expected}; reload it"
                    )
                session.add(row)
                detail = {
                    "version": row.version,
                    "center_id": center_id,
                    "rules": [rule.get("name") for rule in config.get("rules", []) if isinstance(rule, dict)],
                    "command_id": str(row.command_id),
                }
                add_audit(session, actor, "camera.configure", f"camera:{camera_id}", detail, at=now)
                session.flush()
                return _version(row)
        except IntegrityError:
            raise ConflictError(
                f"camera {camera_id}: version {expected + 1} was saved meanwhile; reload it"
            ) from None

    def record_answer(self, ack: CommandAck) -> bool:
        """Store the edge's answer on the version it names (audited); False when it names none."""
        with self._database.session(write=True) as session:
            row = session.get(CameraConfigRow, (ack.camera_id, ack.version))
            if row is None or row.command_id != ack.command_id or row.center_id != ack.center_id:
                return False
            if row.ack_status == "applied" and ack.status.value == "stale":
                return True  # a redelivered command answered again: the first answer stands
            row.ack_status, row.ack_reason, row.ack_how, row.acked_at = (
                ack.status.value,
                ack.reason,
                ack.how,
                ack.at,
            )
            detail = {
                "version": ack.version,
                "status": ack.status.value,
                "reason": ack.reason,
                "how": ack.how,
            }
            add_audit(
                session, f"edge:{ack.center_id}", "camera.config_answer", f"camera:{ack.camera_id}", detail
            )
            return True
