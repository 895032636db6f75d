"""An edge process: all configured centers and cameras, publishing to one bus."""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from hwarang.bus.livewire import LiveWire
from hwarang.domain import Camera, Center
from hwarang.edge.analytics_pool import AnalyticsPool
from hwarang.edge.camera_setup import RegionLookup, build_camera, build_center
from hwarang.edge.camera_worker import CameraWorker, ClipSink, Publish
from hwarang.edge.config import CameraConfig, EdgeConfig
from hwarang.edge.errors import EdgeError
from hwarang.edge.health import CameraHealth

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Applied:
    """How a camera's new configuration was applied: 'rules', 'restart', 'started' or 'stopped'."""

    how: str


LOCAL_SOURCE_TYPES = frozenset({"file", "overlay"})
"""Sources that read the edge's own files: the hub may not point a camera at one."""


class EdgeNode:
    """Builds a worker per enabled camera and runs them until stopped.

    :meth:`apply_camera_config` changes one camera while the others run: new rules are swapped in
    between frames, other changes restart that camera only, a new camera is started. A change from
    the hub may not make a camera read a local file the edge's own configuration did not name.
    """

    def __init__(
        self,
        config: EdgeConfig,
        publish: Publish,
        lookup: RegionLookup,
        *,
        clips: ClipSink | None = None,
        live_wire: LiveWire | None = None,
    ) -> None:
        self.centers: list[Center] = []
        self.cameras: list[Camera] = []
        self._workers: list[CameraWorker] = []
        self.pool = AnalyticsPool(config.analytics_workers)
        self._config, self._publish, self._lookup = config, publish, lookup
        self._clips, self._live_wire = clips, live_wire
        self._change_lock = threading.Lock()
        self._started = False
        self._site_sources = {
            camera.id: camera.source.model_dump() for center in config.centers for camera in center.cameras
        }
        for center_config in config.centers:
            center = build_center(center_config, lookup)
            self.centers.append(center)
            for camera_config in center_config.cameras:
                camera = build_camera(camera_config, center, lookup)
                self.cameras.append(camera)
                if camera_config.enabled:
                    self._workers.append(self._worker(camera, camera_config))

    def _worker(self, camera: Camera, camera_config: CameraConfig) -> CameraWorker:
        return CameraWorker(
            camera,
            camera_config,
            self._publish,
            pool=self.pool,
            queue_size=self._config.queue_size,
            retry_initial_s=self._config.retry_initial_s,
            retry_max_s=self._config.retry_max_s,
            clips=self._clips,
            live_wire=self._live_wire,
        )

    def start(self, *, stagger_s: float = 0.0) -> None:
        """Start the analytics pool and every camera, ``stagger_s`` apart (spreads decoder start-up)."""
        self._started = True
        self.pool.start()
        for i, worker in enumerate(self._workers):
            if i and stagger_s > 0:
                time.sleep(stagger_s)
            logger.info("camera %s: starting (%s)", worker.camera.id, worker.camera.name)
            worker.start()

    def stop(self) -> None:
        """Stop every camera, then the analytics pool."""
        for worker in self._workers:
            worker.stop()
        self.pool.stop()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for every camera to finish (finite sources); True when all have."""
        return all(worker.wait(timeout_s) for worker in self._workers)

    def health(self) -> list[CameraHealth]:
        """Health of every running camera."""
        return [worker.health() for worker in self._workers]

    def picture(self, camera_id: str) -> bytes | None:
        """The camera's last analysed frame as JPEG (full resolution), or None."""
        worker = next((w for w in self._workers if w.camera.id == camera_id), None)
        return None if worker is None else worker.picture()

    def config_version(self, camera_id: str) -> int | None:
        """The hub's config version the camera runs (None: the site file's, or unknown camera)."""
        worker = next((w for w in self._workers if w.camera.id == camera_id), None)
        return None if worker is None else worker.config_version

    def apply_camera_config(self, center_id: str, config: CameraConfig, version: int) -> Applied:
        """Apply one camera's new configuration (``EdgeError`` with the reason when it cannot be)."""
        with self._change_lock:
            center = next((c for c in self.centers if c.id == center_id), None)
            if center is None:
                raise EdgeError(f"center {center_id!r} is not run by this edge")
            known = next((c for c in self.cameras if c.id == config.id), None)
            if known is not None and known.center_id != center_id:
                raise EdgeError(f"camera {config.id!r} belongs to center {known.center_id!r}")
            self._check_local_source(config)
            camera = build_camera(config, center, self._lookup)
            worker = next((w for w in self._workers if w.camera.id == config.id), None)
            if worker is not None and _rules_only(worker.config, config) and worker.camera == camera:
                worker.apply_rules(config, version)
                return Applied("rules")
            self.cameras = [*(c for c in self.cameras if c.id != config.id), camera]
            if worker is not None:
                worker.stop()
                self._workers = [w for w in self._workers if w is not worker]
            if not config.enabled:
                return Applied("stopped")
            fresh = self._worker(camera, config)
            fresh.config_version = version
            self._workers = [*self._workers, fresh]
            if self._started:
                fresh.start()
            return Applied("restart" if worker is not None else "started")

    def _check_local_source(self, config: CameraConfig) -> None:
        if config.source.type not in LOCAL_SOURCE_TYPES:
            return
        if config.source.model_dump() == self._site_sources.get(config.id):
            return  # the file the site's own configuration gave this camera
        raise EdgeError(
            f"camera {config.id!r}: a {config.source.type} source reads the edge's local files; it is set "
            "only in the edge's own configuration, not from the hub (use rtsp or synthetic)"
        )


def _rules_only(old: CameraConfig, new: CameraConfig) -> bool:
    """True when ``new`` differs from ``old`` in its rules at most."""
    return old.model_dump(exclude={"rules"}) == new.model_dump(exclude={"rules"})


class Node(Protocol):
    """What runtimes use of an edge node, in one process or several."""

    centers: list[Center]
    cameras: list[Camera]

    def start(self, *, stagger_s: float = 0.0) -> None: ...
    def stop(self) -> None: ...
    def wait(self, timeout_s: float | None = None) -> bool: ...
    def health(self) -> list[CameraHealth]: ...
    def picture(self, camera_id: str) -> bytes | None: ...
    def apply_camera_config(self, center_id: str, config: CameraConfig, version: int) -> Applied: ...


def create_node(
    config: EdgeConfig,
    publish: Publish,
    lookup: RegionLookup,
    *,
    clips: ClipSink | None = None,
    live_wire: LiveWire | None = None,
) -> Node:
    """An :class:`EdgeNode`, or a :class:`~hwarang.edge.node_shards.ShardedEdgeNode` when
    ``config.processes`` > 1 (clips are cut only in one process for now)."""
    if config.processes > 1:
        from hwarang.edge.node_shards import ShardedEdgeNode

        return ShardedEdgeNode(config, publish, lookup)
    return EdgeNode(config, publish, lookup, clips=clips, live_wire=live_wire)
