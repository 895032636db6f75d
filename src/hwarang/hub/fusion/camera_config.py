"""Camera configuration as a service: read, change (versioned, audited, sent to the edge), export.

What a configuration may hold is the site file's schema; the hub does not import the edge, so the
runtime hands in a :class:`ConfigCodec` that validates with the same pydantic models as the YAML
(``hwarang.runtime.camera_admin``). A change is stored first, then sent on
``hwarang.commands.<center>.camera-config``; the edge's answer arrives on ``hwarang.acks.<center>``
(:mod:`hwarang.hub.fusion.camera_answers`) and is stored on the version.
"""

import asyncio
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from hwarang.bus import Bus, BusError
from hwarang.bus.subjects import command_subject
from hwarang.domain import (
    CAMERA_CONFIG_COMMAND,
    CAMERA_PICTURE_COMMAND,
    Camera,
    CameraConfigCommand,
    CameraPicture,
    PictureRequest,
)
from hwarang.hub.errors import ConflictError, HubError, NotFoundError
from hwarang.hub.fusion.camera_versions import CameraConfigStore, ConfigVersion
from hwarang.hub.fusion.cameras import CameraRegistry

__all__ = ["CameraConfigService", "ConfigCodec", "PictureExchange", "PictureSource", "SendError"]

PICTURE_TIMEOUT_S = 5.0

PictureSource = Callable[[str], bytes | None]
"""A camera's current frame as JPEG, or None when it has none (not running here)."""


class SendError(HubError):
    """The version is stored but could not be sent to the edge (the bus is down): save again later."""


class ConfigCodec(Protocol):
    """The site file's camera schema, as the runtime knows it."""

    def check(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The validated camera config as JSON; raises ``pydantic.ValidationError`` naming the field."""
        ...

    def camera(self, center_id: str, config: Mapping[str, Any]) -> Camera:
        """The domain camera of a validated config (region codes looked up); ``HubError`` if impossible."""
        ...

    def centers(self) -> list[str]:
        """Centers whose cameras this hub configures."""
        ...

    def baseline(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Camera id -> (center id, config JSON) of the site file."""
        ...

    def export(self, current: Mapping[str, tuple[str, dict[str, Any]]]) -> str:
        """The site file's ``edge:`` section as YAML, cameras replaced by (center, config) of ``current``."""
        ...


class PictureExchange:
    """Pictures asked of edges over the bus, matched to their answers by command id."""

    def __init__(self) -> None:
        self._waiting: dict[uuid.UUID, asyncio.Future[CameraPicture]] = {}

    def expect(self, command_id: uuid.UUID) -> "asyncio.Future[CameraPicture]":
        """A future the answer to ``command_id`` completes."""
        future: asyncio.Future[CameraPicture] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        return future

    def forget(self, command_id: uuid.UUID) -> None:
        """No longer wait for ``command_id``."""
        self._waiting.pop(command_id, None)

    def deliver(self, picture: CameraPicture) -> bool:
        """Hand an answer to whoever waits for it; False when nobody does."""
        future = self._waiting.pop(picture.command_id, None)
        if future is None or future.done():
            return False
        future.set_result(picture)
        return True


class CameraConfigService:
    """Versions of camera configurations; changes go to the edge over ``bus``."""

    def __init__(
        self,
        store: CameraConfigStore,
        cameras: CameraRegistry,
        codec: ConfigCodec,
        bus: Bus | None,
        *,
        pictures: PictureSource | None = None,
    ) -> None:
        self.store = store
        self._cameras = cameras
        self._codec = codec
        self._bus = bus
        self._pictures = pictures
        self.exchange = PictureExchange()

    def current(self, camera_id: str) -> ConfigVersion | None:
        """The camera's newest version, or its site-file config as version 0; None when unknown."""
        latest = self.store.latest(camera_id)
        if latest is not None:
            return latest
        found = self._codec.baseline().get(camera_id)
        if found is None:
            return None
        center_id, config = found
        return ConfigVersion(camera_id=camera_id, center_id=center_id, version=0, config=config)

    def check(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate a camera config as the site file would (``pydantic.ValidationError``)."""
        return self._codec.check(data)

    def camera_of(self, center_id: str, config: Mapping[str, Any]) -> Camera:
        """The domain camera a validated config describes."""
        return self._codec.camera(center_id, config)

    def centers(self) -> list[str]:
        """Centers a camera may be added to."""
        return self._codec.centers()

    async def change(self, current: ConfigVersion, config: dict[str, Any], actor: str) -> ConfigVersion:
        """Store ``config`` as the version after ``current`` and send it to the camera's edge."""
        camera = self._codec.camera(current.center_id, config)
        saved = self.store.save(current.camera_id, current.center_id, current.version, config, actor)
        self._cameras.upsert(camera, actor=actor)
        await self._send(saved)
        return saved

    async def add(self, center_id: str, config: dict[str, Any], actor: str) -> ConfigVersion:
        """A new camera at version 1 (ConflictError when the id is taken), sent to its center's edge."""
        camera_id = str(config.get("id", ""))
        if center_id not in self._codec.centers():
            raise NotFoundError(f"center {center_id!r} is not configured on this hub")
        if self.current(camera_id) is not None or self._cameras.get(camera_id) is not None:
            raise ConflictError(f"camera {camera_id!r} exists")
        start = ConfigVersion(camera_id=camera_id, center_id=center_id, version=0, config={})
        return await self.change(start, config, actor)

    async def picture(self, camera_id: str, center_id: str) -> tuple[bytes, int, int] | None:
        """The camera's current frame as (JPEG, frame width, frame height; 0: the JPEG's own), from
        the edge in this process or asked of the center's edge over the bus (5 s at most)."""
        local = None if self._pictures is None else self._pictures(camera_id)
        if local is not None or self._bus is None:
            return None if local is None else (local, 0, 0)
        request = PictureRequest(
            command_id=uuid.uuid4(), center_id=center_id, camera_id=camera_id, issued_at=datetime.now(UTC)
        )
        answer = self.exchange.expect(request.command_id)
        try:
            subject = command_subject(center_id, CAMERA_PICTURE_COMMAND)
            await self._bus.publish(
                subject, request.model_dump_json().encode(), msg_id=str(request.command_id)
            )
            picture = await asyncio.wait_for(answer, timeout=PICTURE_TIMEOUT_S)
        except (BusError, TimeoutError):
            return None
        finally:
            self.exchange.forget(request.command_id)
        if picture.jpeg is None or picture.camera_id != camera_id:
            return None
        return picture.jpeg, picture.width, picture.height

    def configs(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Camera id -> (center id, config JSON) as they are now: the site file plus every saved version."""
        current: dict[str, tuple[str, dict[str, Any]]] = dict(self._codec.baseline())
        for camera_id, version in self.store.latest_all().items():
            current[camera_id] = (version.center_id, version.config)
        return current

    def export_yaml(self, include: Callable[[str], bool] = lambda _id: True) -> str:
        """The cameras as they are now (site file plus every saved version) that ``include`` keeps,
        as the site YAML's ``edge:`` section."""
        current = self.configs()
        return self._codec.export({k: v for k, v in current.items() if include(k)})

    async def resend_latest(self) -> int:
        """Send every camera's newest version again (an edge that restarted runs its site file until
        then; one that has it answers 'stale'); returns how many were sent."""
        sent = 0
        for version in self.store.latest_all().values():
            try:
                await self._send(version, resend=True)
            except SendError:
                continue
            sent += 1
        return sent

    async def _send(self, version: ConfigVersion, *, resend: bool = False) -> None:
        if self._bus is None:
            raise SendError("no bus to the edges: version stored, not sent")
        if version.command_id is None or version.created_by is None:
            raise SendError("version has no command id")
        command = CameraConfigCommand(
            command_id=version.command_id,
            center_id=version.center_id,
            camera_id=version.camera_id,
            version=version.version,
            config=version.config,
            issued_by=version.created_by,
            issued_at=version.created_at or datetime.now(UTC),
        )
        subject = command_subject(version.center_id, CAMERA_CONFIG_COMMAND)
        try:
            await self._bus.publish(
                subject, command.model_dump_json().encode(), msg_id=str(command.command_id)
            )
        except BusError as exc:
            raise SendError(f"version {version.version} stored, not sent to the edge: {exc}") from exc
