"""The hub's camera registry: the cameras fusion places events with."""

from collections.abc import Callable

from sqlalchemy import select

from hwarang.domain import Camera
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import camera_from_row, camera_to_row
from hwarang.hub.store.models import CameraRow

__all__ = ["CameraRegistry"]


class CameraRegistry:
    """Cameras in ``database``; ``on_change`` runs after a camera was added or changed."""

    def __init__(self, database: Database, on_change: Callable[[], None]) -> None:
        self._database = database
        self._on_change = on_change

    def upsert(self, camera: Camera, *, actor: str = "system") -> None:
        """Insert or replace a camera (audited as ``camera.upsert``)."""
        with self._database.session(write=True) as session:
            session.merge(camera_to_row(camera))
            add_audit(session, actor, "camera.upsert", camera.id, {"center_id": camera.center_id})
        self._on_change()

    def all(self) -> list[Camera]:
        """Every known camera, by id."""
        with self._database.session() as session:
            return [camera_from_row(r) for r in session.scalars(select(CameraRow).order_by(CameraRow.id))]

    def get(self, camera_id: str) -> Camera | None:
        """One camera by id, or None when the hub does not know it."""
        with self._database.session() as session:
            row = session.get(CameraRow, camera_id)
            return None if row is None else camera_from_row(row)
