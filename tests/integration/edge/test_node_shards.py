"""Cameras split across worker processes: same events as one process, nothing lost at stop."""

import itertools
import os
import time
from pathlib import Path
from typing import Any

import pytest

from hwarang.domain import AdminLocation, EventMessage
from hwarang.edge.config import EdgeConfig
from hwarang.edge.health import CameraState
from hwarang.edge.node import EdgeNode, create_node
from hwarang.edge.node_shards import ShardedEdgeNode, shard_configs

pytestmark = pytest.mark.integration

CAMERAS = ("east", "west", "north")


def _lookup(lat: float, lon: float) -> AdminLocation:
    return AdminLocation(sido_code="51", sido_name="강원", sigungu_code="51820", sigungu_name="고성군")


def _config(video: Path, processes: int, source: dict[str, Any]) -> EdgeConfig:
    return EdgeConfig.model_validate(
        {
            "processes": processes,
            "queue_size": 256,
            "centers": [
                {
                    "id": "goseong-cc",
                    "name": "Goseong",
                    "cameras": [
                        {
                            "id": camera_id,
                            "name": camera_id,
                            "position": {"lat": 38.38, "lon": 128.47},
                            "source": {"type": "file", "path": str(video), **source},
                            "detector": {"type": "motion"},  # sharding under test, not detection
                            "analysis_fps": 2.0,
                            "rules": [
                                {
                                    "type": "zone_intrusion",
                                    "name": "plaza",
                                    "polygon": [[0, 0], [768, 0], [768, 576], [0, 576]],
                                }
                            ],
                        }
                        for camera_id in CAMERAS
                    ],
                }
            ],
        }
    )


def _per_camera(messages: list[EventMessage]) -> dict[str, list[EventMessage]]:
    found: dict[str, list[EventMessage]] = {camera_id: [] for camera_id in CAMERAS}
    for message in messages:
        found[message.event.camera_id].append(message)
    return found


def test_shards_keep_region_codes_and_split_cameras_round_robin(vtest_path: Path) -> None:
    config = _config(vtest_path, 2, {"realtime": False})
    node = ShardedEdgeNode(config, lambda _m: None, _lookup)
    shards = shard_configs(config, node.centers, node.cameras)
    assert [[c.id for c in shard.centers[0].cameras] for shard in shards] == [["east", "north"], ["west"]]
    for shard in shards:
        assert shard.processes == 1
        assert (shard.centers[0].sido_code, shard.centers[0].sigungu_code) == ("51", "51820")
        assert all(c.sigungu_code == "51820" for c in shard.centers[0].cameras)
        assert shard.analytics_workers == max(1, (os.cpu_count() or 1) // 2)
    assert [c.sigungu_code for c in node.cameras] == ["51820"] * 3


def test_two_processes_publish_what_one_process_does(vtest_path: Path) -> None:
    results: dict[int, dict[str, list[EventMessage]]] = {}
    for processes in (1, 2):
        published: list[EventMessage] = []
        node = create_node(_config(vtest_path, processes, {"realtime": False}), published.append, _lookup)
        assert isinstance(node, ShardedEdgeNode if processes == 2 else EdgeNode)
        node.start()
        try:
            assert node.wait(120), f"{processes} process(es): the files did not finish in 120 s"
        finally:
            node.stop()
        health = {h.camera_id: h for h in node.health()}
        assert set(health) == set(CAMERAS)
        for camera_id, record in health.items():
            assert record.state == CameraState.FINISHED, camera_id
            assert record.frames_in == 795 and record.frames_dropped == 0, camera_id
            assert record.frames_processed + record.frames_skipped == 795, camera_id
            assert record.events == len(_per_camera(published)[camera_id]), camera_id
        results[processes] = _per_camera(published)
    for camera_id in CAMERAS:
        one, two = results[1][camera_id], results[2][camera_id]
        assert len(two) > 0, camera_id
        assert [m.event.frame_index for m in two] == [m.event.frame_index for m in one], camera_id
        assert all(a.event.occurred_at <= b.event.occurred_at for a, b in itertools.pairwise(two))


def test_stop_delivers_every_event_the_children_published(vtest_path: Path) -> None:
    published: list[EventMessage] = []
    config = _config(vtest_path, 2, {"realtime": True, "loop": True, "speed": 4.0})
    node = ShardedEdgeNode(config, published.append, _lookup)
    node.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(h.events > 0 for h in node.health()):
            time.sleep(0.2)
        assert all(h.state == CameraState.RUNNING for h in node.health())
    finally:
        started = time.monotonic()
        node.stop()
        stopping_s = time.monotonic() - started
    assert stopping_s < 15, f"stop took {stopping_s:.1f} s"
    assert node.wait(0), "every worker process has exited"
    health = node.health()
    assert all(h.events > 0 for h in health)
    assert sum(h.events for h in health) == len(published) == node.published
