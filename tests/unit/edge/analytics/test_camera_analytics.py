"""The per-camera pipeline: detector -> tracker -> rules -> event messages with snapshots."""

import hashlib
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from hwarang.domain import BoundingBox, Camera, EventMessage, GeoPoint, ObjectClass, RuleKind, SnapshotRef
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.analytics.detectors import MotionDetectorConfig, build_detector
from hwarang.edge.analytics.pipeline import CameraAnalytics, first_seen_wall_time
from hwarang.edge.analytics.rules import (
    CrowdingConfig,
    LineCrossingConfig,
    RuleHit,
    ZoneIntrusionConfig,
    build_rule,
)
from hwarang.edge.analytics.tracking import ObjectTracker, TrackerConfig
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.frame import Frame
from hwarang.edge.media.snapshots import render_snapshot

T0 = datetime(2024, 5, 1, 9, 0, 0, 123456, tzinfo=UTC)
FPS = 10.0
CAMERA = Camera(
    id="cam-gate-01",
    center_id="jongno-cctv",
    name="Main gate",
    position=GeoPoint(lat=37.5735, lon=126.9790),
    sido_code="11",
    sigungu_code="11110",
)
ZONE = ZoneIntrusionConfig(
    type="zone_intrusion",
    name="gate-zone",
    polygon=[(150.0, 120.0), (300.0, 120.0), (300.0, 230.0), (150.0, 230.0)],
    min_dwell_s=0.3,
)
LINE = LineCrossingConfig(type="line_crossing", name="gate-line", start=(200.0, 0.0), end=(200.0, 240.0))


def frame_at(index: int, image: npt.NDArray[np.uint8] | None = None) -> Frame:
    picture = np.full((240, 320, 3), 90, dtype=np.uint8) if image is None else image
    return Frame(image=picture, index=index, pts_s=index / FPS, wall_time=T0 + timedelta(seconds=index / FPS))


class WalkingBox:
    """A scripted detector: one person box walking right 8 px a frame (bottom at y 200)."""

    def detect(self, frame: Frame) -> sv.Detections:
        x = 40.0 + 8.0 * frame.index
        return sv.Detections(
            xyxy=np.array([[x, 120.0, x + 30.0, 200.0]], dtype=np.float32),
            confidence=np.array([0.8], dtype=np.float32),
            class_id=np.array([CLASS_INDEX[ObjectClass.PERSON]]),
        )


def projector(x: float, y: float) -> GeoPoint:
    return GeoPoint(lat=37.5 + y * 1e-6, lon=127.0 + x * 1e-6)


def analytics() -> CameraAnalytics:
    rules = [build_rule(ZONE), build_rule(LINE)]
    return CameraAnalytics(
        CAMERA,
        WalkingBox(),
        ObjectTracker(TrackerConfig(), fps=FPS),
        rules,
        snapshot=render_snapshot,
        project=projector,
    )


def run(pipeline: CameraAnalytics, frames: int = 30) -> list[EventMessage]:
    return [message for index in range(frames) for message in pipeline.process(frame_at(index))]


def test_scripted_walk_produces_zone_and_line_events() -> None:
    pipeline = analytics()
    messages = run(pipeline)
    by_rule = {m.event.rule_name: m for m in messages}
    assert sorted(by_rule) == ["gate-line", "gate-zone"] and len(messages) == 2

    zone = by_rule["gate-zone"].event
    # The anchor (55 + 8 * frame) enters the zone (x >= 150) at frame 12; 0.3 s later is frame 15.
    assert zone.frame_index == 15
    assert zone.rule is RuleKind.ZONE_INTRUSION
    assert zone.occurred_at == T0 + timedelta(seconds=1.5)
    assert zone.dwell_s == pytest.approx(0.3)
    assert (zone.camera_id, zone.center_id, zone.sido_code, zone.sigungu_code) == (
        "cam-gate-01",
        "jongno-cctv",
        "11",
        "11110",
    )
    assert zone.object_class is ObjectClass.PERSON
    assert zone.confidence == pytest.approx(0.8)
    assert zone.box == BoundingBox(x1=160.0, y1=120.0, x2=190.0, y2=200.0)
    assert zone.geo == projector(175.0, 200.0)
    assert zone.track_id >= 0

    line = by_rule["gate-line"].event
    # The line runs top to bottom, so its left side is the image's right: walking right is "out".
    assert line.rule is RuleKind.LINE_CROSSING and line.direction == "out" and line.dwell_s is None
    assert line.frame_index == 19  # anchor x 199 -> 207
    assert line.track_id == zone.track_id

    for message in messages:
        assert message.snapshot_jpeg is not None and message.event.snapshot is not None
        assert hashlib.sha256(message.snapshot_jpeg).hexdigest() == message.event.snapshot.sha256
        decoded = cv2.imdecode(np.frombuffer(message.snapshot_jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.shape == (240, 320, 3)
        assert EventMessage.model_validate_json(message.model_dump_json()) == message

    stats = pipeline.stats
    assert (stats.frames, stats.detections, stats.hits, stats.events) == (30, 30, 2, 2)
    assert 25 <= stats.tracks <= 30
    assert set(stats.mean_ms) == {"detect", "track", "rules", "events"}
    assert all(ms >= 0.0 for ms in stats.mean_ms.values()) and stats.mean_ms["events"] > 0.0


def test_event_ids_are_stable_for_the_same_input() -> None:
    first = [m.event.id for m in run(analytics())]
    second = [m.event.id for m in run(analytics())]
    assert first == second and len(set(first)) == 2


def test_a_looped_stream_resets_and_repeats_the_same_events() -> None:
    pipeline = analytics()
    first = [m.event.id for m in run(pipeline)]
    again = [m.event.id for m in run(pipeline)]  # pts restart at 0: tracker and rules reset
    assert first == again
    assert pipeline.stats.resets == 1


def test_first_seen_wall_time_is_rounded_to_the_millisecond() -> None:
    frame = Frame(image=np.zeros((4, 4, 3), dtype=np.uint8), index=7, pts_s=10.0, wall_time=T0)
    hit = RuleHit(
        rule_name="r",
        rule=RuleKind.LOITERING,
        tracker_id=3,
        detection_index=0,
        now_s=10.0,
        first_seen_s=7.5004,
    )
    assert first_seen_wall_time(frame, hit) == datetime(
        2024, 5, 1, 8, 59, 57, 624000, tzinfo=UTC
    )  # .623856 rounded


def test_crowding_event_uses_the_crowd_box_and_no_track() -> None:
    class Crowd:
        def detect(self, frame: Frame) -> sv.Detections:
            xyxy = np.array(
                [[100, 100, 120, 150], [130, 100, 150, 150], [160, 110, 180, 160]], dtype=np.float32
            )
            return sv.Detections(
                xyxy=xyxy, confidence=np.full(3, 0.7, dtype=np.float32), class_id=np.zeros(3, dtype=int)
            )

    crowding = CrowdingConfig(
        type="crowding",
        name="plaza",
        polygon=[(0, 0), (320, 0), (320, 240), (0, 240)],
        min_count=3,
        min_duration_s=0.5,
    )
    pipeline = CameraAnalytics(
        CAMERA,
        Crowd(),
        ObjectTracker(TrackerConfig(), fps=FPS),
        [build_rule(crowding)],
        snapshot=render_snapshot,
    )
    messages = [m for index in range(20) for m in pipeline.process(frame_at(index))]
    assert len(messages) == 1
    event = messages[0].event
    assert event.rule is RuleKind.CROWDING and event.track_id == -1 and event.geo is None
    assert event.box == BoundingBox(x1=100.0, y1=100.0, x2=180.0, y2=160.0)


def test_motion_detector_pipeline_on_synthetic_frames() -> None:
    def image(index: int) -> npt.NDArray[np.uint8]:
        rng = np.random.default_rng(index)
        picture = np.clip(90 + rng.integers(-3, 4, size=(240, 320, 3)), 0, 255).astype(np.uint8)
        if index >= 20:
            x = 20 + 8 * (index - 20)
            blocks = np.random.default_rng(5).integers(160, 255, size=(10, 5, 1))
            picture[120:190, x : x + 30] = np.repeat(np.repeat(blocks, 7, axis=0), 6, axis=1).astype(np.uint8)
        return picture

    def run_once() -> list[EventMessage]:
        pipeline = CameraAnalytics(
            CAMERA,
            build_detector(MotionDetectorConfig(type="motion", warmup_frames=20, min_area_px=300)),
            ObjectTracker(TrackerConfig(), fps=FPS),
            [build_rule(ZONE)],
            snapshot=render_snapshot,
        )
        return [m for index in range(50) for m in pipeline.process(frame_at(index, image(index)))]

    messages = run_once()
    assert len(messages) == 1
    event = messages[0].event
    assert event.rule_name == "gate-zone" and event.object_class is ObjectClass.PERSON
    anchor_x, anchor_y = event.box.bottom_center
    assert 150.0 <= anchor_x <= 300.0 and 120.0 <= anchor_y <= 230.0
    assert [m.event.id for m in run_once()] == [event.id]


def test_bad_setups_are_refused() -> None:
    tracker = ObjectTracker(TrackerConfig(), fps=FPS)
    with pytest.raises(AnalyticsError, match=r"camera 'cam-gate-01': rule names must be unique.*'gate-zone'"):
        CameraAnalytics(
            CAMERA, WalkingBox(), tracker, [build_rule(ZONE), build_rule(ZONE)], snapshot=render_snapshot
        )
    pipeline = CameraAnalytics(CAMERA, WalkingBox(), tracker, [], snapshot=render_snapshot)
    naive = Frame(
        image=np.zeros((8, 8, 3), dtype=np.uint8), index=0, pts_s=0.0, wall_time=datetime(2024, 5, 1)
    )
    with pytest.raises(AnalyticsError, match="naive wall_time"):
        pipeline.process(naive)


def test_a_custom_snapshot_renderer_is_used() -> None:
    calls: list[str] = []

    def tiny_renderer(
        image: npt.NDArray[np.uint8], box: BoundingBox, label: str
    ) -> tuple[bytes, SnapshotRef]:
        calls.append(label)
        ok, encoded = cv2.imencode(".jpg", image)
        assert ok
        data = encoded.tobytes()
        return data, SnapshotRef(
            sha256=hashlib.sha256(data).hexdigest(), width=image.shape[1], height=image.shape[0]
        )

    pipeline = CameraAnalytics(
        CAMERA,
        WalkingBox(),
        ObjectTracker(TrackerConfig(), fps=FPS),
        [build_rule(ZONE)],
        snapshot=tiny_renderer,
    )
    messages = run(pipeline)
    assert len(messages) == 1 and calls == [f"gate-zone: person #{messages[0].event.track_id}"]
