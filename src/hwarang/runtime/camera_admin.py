"""Camera configuration from the page, wired for a runtime: the site file's schema, the bus, answers.

:class:`SiteCameraCodec` validates with the site file's own models (``CameraConfig``) and exports the
``edge:`` section; :func:`camera_admin` builds the hub's service and runs the answer reader.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import yaml

from hwarang.bus import Bus
from hwarang.domain import Camera
from hwarang.edge.camera_setup import build_camera, build_center
from hwarang.edge.config import CameraConfig, EdgeConfig
from hwarang.edge.errors import EdgeError
from hwarang.geo.regions import default_catalog
from hwarang.hub.errors import HubError
from hwarang.hub.fusion.camera_answers import AckWorker
from hwarang.hub.fusion.camera_config import CameraConfigService, PictureSource
from hwarang.hub.fusion.camera_versions import CameraConfigStore
from hwarang.hub.service import HubService

__all__ = ["SiteCameraCodec", "camera_admin"]


class SiteCameraCodec:
    """The cameras of a site file's ``edge:`` section, and its schema."""

    def __init__(self, edge: EdgeConfig) -> None:
        self._edge = edge
        self._lookup = default_catalog().lookup
        self._centers = {center.id: center for center in edge.centers}

    def check(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validated with ``CameraConfig``; the JSON keeps only what was given (plus the id)."""
        return CameraConfig.model_validate(dict(data)).model_dump(mode="json", exclude_unset=True)

    def camera(self, center_id: str, config: Mapping[str, Any]) -> Camera:
        """The domain camera (region codes looked up from the position when not given)."""
        center_config = self._centers.get(center_id)
        if center_config is None:
            raise HubError(f"center {center_id!r} is not configured on this hub")
        try:
            center = build_center(center_config, self._lookup)
            return build_camera(CameraConfig.model_validate(dict(config)), center, self._lookup)
        except EdgeError as exc:
            raise HubError(str(exc)) from None

    def centers(self) -> list[str]:
        """The site file's centers."""
        return list(self._centers)

    def baseline(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every camera of the site file as (center, config JSON)."""
        return {
            camera.id: (center.id, camera.model_dump(mode="json", exclude_unset=True))
            for center in self._edge.centers
            for camera in center.cameras
        }

    def export(self, current: Mapping[str, tuple[str, dict[str, Any]]]) -> str:
        """``edge:`` of the site file with each center's cameras as in ``current`` (validated)."""
        centers = []
        for center in self._edge.centers:
            data = center.model_dump(mode="json", exclude_unset=True)
            data["cameras"] = [
                config for camera_id, (center_id, config) in current.items() if center_id == center.id
            ]
            order = [camera.id for camera in center.cameras]
            data["cameras"].sort(
                key=lambda c: (order.index(c["id"]) if c["id"] in order else len(order), c["id"])
            )
            centers.append(data)
        edge = self._edge.model_dump(mode="json", exclude_unset=True)
        edge["centers"] = centers
        EdgeConfig.model_validate(edge)  # what is exported loads again
        header = "# Cameras as configured on the hub (site file plus changes from the page).\n"
        return header + yaml.safe_dump({"edge": edge}, allow_unicode=True, sort_keys=False)


@contextlib.asynccontextmanager
async def camera_admin(
    service: HubService, edge: EdgeConfig, bus: Bus, *, pictures: PictureSource | None = None
) -> AsyncIterator[tuple[CameraConfigService, AckWorker]]:
    """The camera configuration service over ``bus``, with the edges' answers read meanwhile."""
    store = CameraConfigStore(service.database)
    admin = CameraConfigService(store, service.cameras, SiteCameraCodec(edge), bus, pictures=pictures)
    acks = AckWorker(bus, store, pictures=admin.exchange)
    stop = asyncio.Event()
    task = asyncio.create_task(acks.run(stop), name="hub-camera-answers")
    await admin.resend_latest()
    try:
        yield admin, acks
    finally:
        stop.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5.0)
