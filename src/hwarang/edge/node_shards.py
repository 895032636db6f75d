"""An edge node whose cameras run in several worker processes (``edge.processes`` > 1).

One Python process runs every camera's decoder thread and the shared analytics pool; on a machine
with many cores its interpreter lock (tracking, post-processing and gating are Python) can limit the
node before the cores do (on 2 cores it does not: docs/benchmarks.md). :class:`ShardedEdgeNode`
splits the enabled cameras round-robin across ``processes`` children (``spawn``: no inherited
threads or locks), each an ordinary :class:`~hwarang.edge.node.EdgeNode` with its own analytics pool
and model sessions. The parent keeps the node's interface: events come back over a bounded queue and
are published here, in the order each camera produced them (a camera lives in one child); children
report camera health every :data:`HEALTH_PERIOD_S`; OpenCV's thread count is the parent's. A full
queue blocks the child's analytics (back-pressure), so no event is dropped between the processes.
Region codes are resolved in the parent, so children need no lookup.
"""

import logging
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as MpEvent
from typing import TYPE_CHECKING, Any

from hwarang.domain import AdminLocation, Camera, Center, EventMessage
from hwarang.edge.camera_setup import RegionLookup, build_camera, build_center
from hwarang.edge.camera_worker import Publish
from hwarang.edge.config import CameraConfig, EdgeConfig
from hwarang.edge.errors import EdgeError
from hwarang.edge.health import CameraHealth, CameraState

if TYPE_CHECKING:
    from hwarang.edge.node import Applied

logger = logging.getLogger(__name__)

HEALTH_PERIOD_S = 0.5
EVENT_QUEUE_SIZE = 2048
STOP_GRACE_S = 15.0


def _no_lookup(_lat: float, _lon: float) -> AdminLocation | None:
    return None


def shard_configs(config: EdgeConfig, centers: list[Center], cameras: list[Camera]) -> list[EdgeConfig]:
    """``config`` split into ``config.processes`` single-process configs, enabled cameras round-robin.

    Every center and camera carries its resolved region codes; a child with no camera is left out.
    """
    count = config.processes
    codes = {camera.id: (camera.sido_code, camera.sigungu_code) for camera in cameras}
    workers = config.analytics_workers or max(1, (os.cpu_count() or 1) // count)
    shards: list[dict[str, Any]] = [
        {**config.model_dump(mode="json"), "processes": 1, "analytics_workers": workers, "centers": []}
        for _ in range(count)
    ]
    slot = 0
    for center_config, center in zip(config.centers, centers, strict=True):
        placed: list[list[dict[str, Any]]] = [[] for _ in range(count)]
        for camera_config in center_config.cameras:
            if not camera_config.enabled:
                continue
            sido, sigungu = codes[camera_config.id]
            camera = {**camera_config.model_dump(mode="json"), "sido_code": sido, "sigungu_code": sigungu}
            placed[slot % count].append(camera)
            slot += 1
        center_dump = center_config.model_dump(mode="json")
        center_dump.update(sido_code=center.sido_code, sigungu_code=center.sigungu_code)
        for index, shard_cameras in enumerate(placed):
            if shard_cameras:
                shards[index]["centers"].append({**center_dump, "cameras": shard_cameras})
    return [EdgeConfig.model_validate(shard) for shard in shards if shard["centers"]]


def _run_shard(
    index: int,
    config_json: str,
    stagger_s: float,
    events: "multiprocessing.Queue[EventMessage]",
    health: "multiprocessing.Queue[tuple[int, list[dict[str, Any]], bool]]",
    stop: MpEvent,
    log_level: int,
    cv_threads: int,
) -> None:
    """Child process body: run one shard until ``stop`` or until its (finite) sources end."""
    import cv2

    from hwarang.edge.node import EdgeNode  # the child's own import

    cv2.setNumThreads(cv_threads)  # as the parent has it

    logging.basicConfig(
        level=log_level, format=f"%(asctime)s shard {index} %(levelname)s %(name)s: %(message)s"
    )
    node = EdgeNode(EdgeConfig.model_validate_json(config_json), events.put, _no_lookup)
    node.start(stagger_s=stagger_s)
    finished = False
    try:
        while not stop.wait(HEALTH_PERIOD_S):
            finished = node.wait(0.0)
            health.put((index, [h.model_dump(mode="json") for h in node.health()], finished))
            if finished:
                break
    finally:
        node.stop()
        health.put((index, [h.model_dump(mode="json") for h in node.health()], True))
        events.close()
        events.join_thread()  # every event reaches the parent before the child exits


@dataclass
class _Shard:
    process: SpawnProcess
    camera_ids: list[str]
    finished: bool = False


class ShardedEdgeNode:
    """:class:`~hwarang.edge.node.EdgeNode`'s interface over ``config.processes`` worker processes."""

    def __init__(self, config: EdgeConfig, publish: Publish, lookup: RegionLookup) -> None:
        if config.processes < 2:
            raise EdgeError("ShardedEdgeNode needs edge.processes >= 2 (use EdgeNode for one process)")
        self.centers: list[Center] = []
        self.cameras: list[Camera] = []
        for center_config in config.centers:
            center = build_center(center_config, lookup)
            self.centers.append(center)
            self.cameras.extend(build_camera(camera, center, lookup) for camera in center_config.cameras)
        self._configs = shard_configs(config, self.centers, self.cameras)
        self._publish = publish
        self._context = multiprocessing.get_context("spawn")
        self._events: multiprocessing.Queue[EventMessage] = self._context.Queue(EVENT_QUEUE_SIZE)
        self._health_queue: multiprocessing.Queue[tuple[int, list[dict[str, Any]], bool]] = (
            self._context.Queue()
        )
        self._stop = self._context.Event()
        self._shards: list[_Shard] = []
        self._health: dict[str, CameraHealth] = {}
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._forwarder: threading.Thread | None = None
        self._done = threading.Event()
        self.published = 0

    @property
    def processes(self) -> int:
        """Worker processes this node runs (cameras of disabled/empty shards need none)."""
        return len(self._configs)

    @property
    def pids(self) -> list[int]:
        """Process ids of the started worker processes."""
        return [shard.process.pid for shard in self._shards if shard.process.pid is not None]

    def start(self, *, stagger_s: float = 0.0) -> None:
        """Start the worker processes (each staggers its own cameras) and the event forwarder."""
        import cv2

        level = logging.getLogger().getEffectiveLevel()
        cv_threads = cv2.getNumThreads()
        for index, shard_config in enumerate(self._configs):
            args = (
                index,
                shard_config.model_dump_json(),
                stagger_s,
                self._events,
                self._health_queue,
                self._stop,
                level,
                cv_threads,
            )
            process = self._context.Process(
                target=_run_shard, args=args, name=f"hwarang-edge-shard-{index}", daemon=True
            )
            process.start()
            ids = [camera.id for center in shard_config.centers for camera in center.cameras]
            self._shards.append(_Shard(process, ids))
            logger.info("edge shard %d: pid %s, %d camera(s)", index, process.pid, len(ids))
        self._forwarder = threading.Thread(target=self._forward, name="hwarang-edge-forwarder", daemon=True)
        self._forwarder.start()

    def stop(self) -> None:
        """Stop every worker process (their queued events are still published), then the forwarder."""
        self._stop.set()
        deadline = time.monotonic() + STOP_GRACE_S
        for shard in self._shards:
            shard.process.join(max(0.1, deadline - time.monotonic()))
            if shard.process.is_alive():
                logger.warning(
                    "edge shard pid %s did not stop in %.0f s; terminating it",
                    shard.process.pid,
                    STOP_GRACE_S,
                )
                shard.process.terminate()
                shard.process.join(5.0)
        self._done.set()
        if self._forwarder is not None:
            self._forwarder.join(STOP_GRACE_S)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for every worker process to finish (finite sources); True when all have."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for shard in self._shards:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            shard.process.join(remaining)
            if shard.process.is_alive():
                return False
        return True

    def health(self) -> list[CameraHealth]:
        """Health of every enabled camera as its process last reported it (``starting`` before that)."""
        self._drain_health()
        with self._lock:
            known = dict(self._health)
        return [
            known.get(camera_id) or _starting(camera_id)
            for shard in self._shards
            for camera_id in shard.camera_ids
        ]

    def picture(self, camera_id: str) -> bytes | None:
        """Not available across processes yet."""
        return None

    def apply_camera_config(self, center_id: str, config: CameraConfig, version: int) -> "Applied":
        """Refused: changes from the hub need a single-process edge for now."""
        raise EdgeError("camera changes from the hub need edge.processes: 1 (restart with the exported YAML)")

    def _drain_health(self) -> None:
        with self._drain_lock:
            self._drain_health_locked()

    def _drain_health_locked(self) -> None:
        while True:
            try:
                index, reports, finished = self._health_queue.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                for report in reports:
                    health = CameraHealth.model_validate(report)
                    self._health[health.camera_id] = health
                self._shards[index].finished = self._shards[index].finished or finished

    def _forward(self) -> None:
        """Publish the children's events here until stopped and every child is gone and drained."""
        while True:
            self._drain_health()  # always read: a child cannot exit with reports stuck in its pipe
            try:
                message = self._events.get(timeout=0.2)
            except queue.Empty:
                if self._done.is_set() or (
                    self._shards and not any(s.process.is_alive() for s in self._shards)
                ):
                    return
                continue
            try:
                self._publish(message)
                self.published += 1
            except Exception:  # the publisher's own failures are its to count; keep forwarding
                logger.exception("edge: publishing event %s from a worker process failed", message.event.id)


def _starting(camera_id: str) -> CameraHealth:
    """The health of a camera whose process has not reported yet."""
    return CameraHealth(
        camera_id=camera_id,
        state=CameraState.STARTING,
        fps_in=0.0,
        fps_processed=0.0,
        frames_in=0,
        frames_processed=0,
        frames_dropped=0,
        decode_errors=0,
        analytics_errors=0,
        events=0,
        reconnects=0,
    )
