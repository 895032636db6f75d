"""An edge process: all configured centers and cameras, publishing to one bus."""

import logging
import time
from typing import Protocol

from hwarang.bus.livewire import LiveWire
from hwarang.domain import Camera, Center
from hwarang.edge.analytics_pool import AnalyticsPool
from hwarang.edge.camera_setup import RegionLookup, build_camera, build_center
from hwarang.edge.camera_worker import CameraWorker, ClipSink, Publish
from hwarang.edge.config import EdgeConfig
from hwarang.edge.health import CameraHealth

logger = logging.getLogger(__name__)


class EdgeNode:
    """Builds a worker per enabled camera and runs them until stopped."""

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
        for center_config in config.centers:
            center = build_center(center_config, lookup)
            self.centers.append(center)
            for camera_config in center_config.cameras:
                camera = build_camera(camera_config, center, lookup)
                self.cameras.append(camera)
                if not camera_config.enabled:
                    continue
                self._workers.append(
                    CameraWorker(
                        camera,
                        camera_config,
                        publish,
                        pool=self.pool,
                        queue_size=config.queue_size,
                        retry_initial_s=config.retry_initial_s,
                        retry_max_s=config.retry_max_s,
                        clips=clips,
                        live_wire=live_wire,
                    )
                )

    def start(self, *, stagger_s: float = 0.0) -> None:
        """Start the analytics pool and every camera, ``stagger_s`` apart (spreads decoder start-up)."""
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


class Node(Protocol):
    """What runtimes use of an edge node, in one process or several."""

    centers: list[Center]
    cameras: list[Camera]

    def start(self, *, stagger_s: float = 0.0) -> None: ...
    def stop(self) -> None: ...
    def wait(self, timeout_s: float | None = None) -> bool: ...
    def health(self) -> list[CameraHealth]: ...


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
