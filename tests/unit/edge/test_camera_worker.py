"""CameraWorker on the shared pool: analysis rate limiting, drop counting, finishing, health."""

import io

import av

from hwarang.domain import Camera, EventMessage, GeoPoint
from hwarang.edge.analytics_pool import AnalyticsPool
from hwarang.edge.camera_worker import CameraWorker
from hwarang.edge.config import CameraConfig
from hwarang.edge.health import CameraState
from hwarang.edge.media.clips import Clip


def _camera() -> Camera:
    return Camera(
        id="syn-1",
        center_id="c1",
        name="synthetic",
        position=GeoPoint(lat=38.38, lon=128.47),
        sido_code="51",
        sigungu_code="51820",
    )


def _config(**changes: object) -> CameraConfig:
    data: dict[str, object] = {
        "id": "syn-1",
        "name": "synthetic",
        "position": {"lat": 38.38, "lon": 128.47},
        "source": {"type": "synthetic", "fps": 10, "duration_s": 4.0, "realtime": False, "seed": 3},
        "detector": {"type": "motion"},  # drawn shapes: no COCO model knows them
        "rules": [
            {"type": "zone_intrusion", "name": "beach", "polygon": [[0, 302], [960, 248], [960, 65], [0, 65]]}
        ],
    }
    data.update(changes)
    return CameraConfig.model_validate(data)


def _run(config: CameraConfig, queue_size: int) -> tuple[CameraWorker, list[EventMessage]]:
    published: list[EventMessage] = []
    pool = AnalyticsPool(workers=2)
    pool.start()
    worker = CameraWorker(_camera(), config, published.append, pool=pool, queue_size=queue_size)
    worker.start()
    assert worker.wait(30), "a 4 s synthetic clip should finish"
    worker.stop()
    pool.stop()
    return worker, published


def test_analysis_fps_skips_frames_on_stream_time() -> None:
    worker, _ = _run(_config(analysis_fps=5.0), queue_size=256)
    health = worker.health()
    assert health.state == CameraState.FINISHED
    assert health.frames_in == 40
    assert health.frames_skipped == 20
    assert health.frames_processed == 20
    assert health.frames_dropped == 0


def test_every_frame_is_analysed_by_default_and_events_flow() -> None:
    source = {"type": "synthetic", "fps": 10, "duration_s": 15.0, "realtime": False, "seed": 3}
    worker, published = _run(_config(source=source), queue_size=512)
    health = worker.health()
    assert (health.frames_in, health.frames_skipped, health.frames_processed) == (150, 0, 150)
    assert health.events == len(published) > 0
    assert all(m.event.camera_id == "syn-1" for m in published)


def test_a_full_lane_drops_and_counts_instead_of_blocking() -> None:
    worker, _ = _run(
        _config(source={"type": "synthetic", "fps": 10, "duration_s": 20.0, "realtime": False}), 1
    )
    health = worker.health()
    assert health.frames_in == 200
    assert health.frames_dropped > 0
    assert health.frames_processed + health.frames_dropped == 200


def test_each_event_gets_a_clip_through_the_sink() -> None:
    source = {"type": "synthetic", "fps": 10, "duration_s": 15.0, "realtime": False, "seed": 3}
    config = _config(source=source, clips={"pre_s": 2.0, "post_s": 2.0})
    published: list[EventMessage] = []
    cut: list[tuple[list[EventMessage], Clip]] = []
    worker = CameraWorker(_camera(), config, published.append, clips=lambda m, c: cut.append((m, c)))
    worker.start()
    assert worker.wait(60)
    worker.stop()
    assert published
    clipped = {m.event.id for messages, _ in cut for m in messages}
    assert clipped == {m.event.id for m in published}  # every event, also those near the end
    health = worker.health()
    assert health.clips == len(cut) and health.clip_mode == "encode"
    for _, clip in cut:
        assert clip.ref.duration_s <= 4.0 + 1.0
        with av.open(io.BytesIO(clip.data), mode="r") as container:
            assert sum(1 for _ in container.decode(video=0)) >= 10


def test_a_camera_without_clips_encodes_nothing() -> None:
    source = {"type": "synthetic", "fps": 10, "duration_s": 6.0, "realtime": False, "seed": 3}
    config = _config(source=source, clips={"enabled": False})
    cut: list[object] = []
    worker = CameraWorker(_camera(), config, lambda _m: None, clips=lambda m, c: cut.append(c))
    worker.start()
    assert worker.wait(60)
    worker.stop()
    assert cut == []
