"""A camera configuration service for API tests: a site file's edge section, a recording bus."""

from collections.abc import Mapping
from typing import Any

from hwarang.bus.base import PublishAck
from hwarang.bus.memory import MemoryBus
from hwarang.edge.config import EdgeConfig
from hwarang.hub.fusion.camera_config import CameraConfigService, PictureSource
from hwarang.hub.fusion.camera_versions import CameraConfigStore
from hwarang.hub.service import HubService
from hwarang.runtime.camera_admin import SiteCameraCodec

PICTURE = b"\xff\xd8\xff\xe0picture\xff\xd9"


def site_edge(center_id: str, camera_id: str, *, lat: float, lon: float) -> EdgeConfig:
    """One center with one synthetic camera at (lat, lon), rules: one zone."""
    return EdgeConfig.model_validate(
        {
            "centers": [
                {
                    "id": center_id,
                    "name": "center",
                    "cameras": [
                        {
                            "id": camera_id,
                            "name": "gate",
                            "position": {"lat": lat, "lon": lon},
                            "source": {"type": "synthetic", "width": 960, "height": 540},
                            "detector": {"type": "motion"},
                            "rules": [
                                {
                                    "type": "zone_intrusion",
                                    "name": "yard",
                                    "polygon": [[0, 300], [960, 250], [960, 60], [0, 60]],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )


class RecordingBus(MemoryBus):
    """The in-memory bus, keeping what was published (subject, data) for the test to read."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, bytes]] = []

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PublishAck:
        self.sent.append((subject, data))
        return await super().publish(subject, data, msg_id=msg_id, headers=headers)


def config_service(
    hub: HubService, edge: EdgeConfig, bus: RecordingBus, pictures: PictureSource | None = None
) -> CameraConfigService:
    """The service as the runtimes build it (without the answer reader)."""
    return CameraConfigService(
        CameraConfigStore(hub.database),
        hub.cameras,
        SiteCameraCodec(edge),
        bus,
        pictures=pictures if pictures is not None else lambda camera_id: PICTURE,
    )


def camera_json(edge: EdgeConfig, **changes: Any) -> dict[str, Any]:
    """The first camera of ``edge`` as JSON, with ``changes``."""
    data: dict[str, Any] = edge.centers[0].cameras[0].model_dump(mode="json", exclude_unset=True)
    data.update(changes)
    return data
