"""Display names of cameras for incident titles."""

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.hub.store.models import CameraRow

__all__ = ["CameraLabels"]


class CameraLabels:
    """Names cameras: by ``names`` when given, else from the ``cameras`` table; the id when unknown."""

    def __init__(self, names: Callable[[str], str | None] | None = None) -> None:
        self._names = names

    def of(self, session: Session, camera_ids: set[str]) -> dict[str, str]:
        """The label of each camera id."""
        if self._names is not None:
            names = {camera_id: self._names(camera_id) for camera_id in camera_ids}
        else:
            stmt = select(CameraRow.id, CameraRow.name).where(CameraRow.id.in_(sorted(camera_ids)))
            names = {camera_id: name for camera_id, name in session.execute(stmt)}
        return {camera_id: names.get(camera_id) or camera_id for camera_id in camera_ids}
