"""Motion detector, tracker and zone intrusion on the real PETS09 S2L1 clip, against MOT ground truth."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from hwarang.domain import Camera, Event, GeoPoint
from hwarang.edge.analytics.detectors import Detector, MotionDetectorConfig, build_detector
from hwarang.edge.analytics.pipeline import CameraAnalytics
from hwarang.edge.analytics.rules import ZoneIntrusionConfig, build_rule
from hwarang.edge.analytics.tracking import ObjectTracker, TrackerConfig
from hwarang.edge.frame import Frame
from hwarang.edge.media.snapshots import render_snapshot

pytestmark = pytest.mark.integration

FRAMES = 795  # the whole clip; about 4 s on one core
FPS = 10.0
IOU_MATCH = 0.3
T0 = datetime(2009, 6, 1, 12, 0, tzinfo=UTC)
# The walkway across the middle of the scene, picked from the ground truth: 2,739 of the clip's 4,650
# ground-truth person boxes have their bottom centre here (checked below).
WALKWAY = [(288.0, 200.0), (672.0, 200.0), (672.0, 380.0), (288.0, 380.0)]
CAMERA = Camera(
    id="pets09-s2l1",
    center_id="test-center",
    name="PETS 2009 S2L1",
    position=GeoPoint(lat=37.5665, lon=126.978),
    sido_code="11",
    sigungu_code="11110",
)


class Recording:
    """Passes detection through and keeps the last result, to score the detector inside the pipeline."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.last = sv.Detections.empty()

    def detect(self, frame: Frame) -> sv.Detections:
        self.last = self.inner.detect(frame)
        return self.last


def ground_truth(path: Path) -> dict[int, npt.NDArray[np.float64]]:
    """MOT15 boxes as xyxy per video frame index (the file's frame numbers start at 1)."""
    boxes: dict[int, list[list[float]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        frame, _track, left, top, width, height = (float(v) for v in line.split(",")[:6])
        boxes[int(frame) - 1].append([left, top, left + width, top + height])
    return {index: np.array(rows) for index, rows in boxes.items()}


def matches(truth: npt.NDArray[np.float64], found: npt.NDArray[Any]) -> int:
    """Greedy one-to-one matches at IoU >= ``IOU_MATCH``."""
    if len(truth) == 0 or len(found) == 0:
        return 0
    iou = sv.box_iou_batch(truth, found.astype(np.float64))
    matched = 0
    while iou.size and iou.max() >= IOU_MATCH:
        row, col = np.unravel_index(int(np.argmax(iou)), iou.shape)
        iou[row, :] = -1.0
        iou[:, col] = -1.0
        matched += 1
    return matched


def event_matches_truth(event: Event, truth: npt.NDArray[np.float64]) -> bool:
    """The event's anchor lies inside a ground-truth box, or its box overlaps one at IoU >= 0.3."""
    if len(truth) == 0:
        return False
    x, y = event.box.bottom_center
    inside = (truth[:, 0] <= x) & (x <= truth[:, 2]) & (truth[:, 1] <= y) & (y <= truth[:, 3])
    box = np.array([[event.box.x1, event.box.y1, event.box.x2, event.box.y2]])
    return bool(inside.any() or sv.box_iou_batch(box, truth).max() >= IOU_MATCH)


def test_zone_intrusion_on_pets09(vtest_path: Path, shared_data: Path) -> None:
    truth = ground_truth(shared_data / "video" / "PETS09-S2L1_gt_MOT15.txt")
    zone = sv.PolygonZone(np.array(WALKWAY, dtype=np.int64))
    gt_in_zone = sum(
        int(zone.trigger(sv.Detections(xyxy=truth[i])).sum()) for i in range(FRAMES) if i in truth
    )
    assert gt_in_zone > 2500

    detector_config = MotionDetectorConfig(type="motion")
    detector = Recording(build_detector(detector_config))
    rule = ZoneIntrusionConfig(type="zone_intrusion", name="walkway", polygon=WALKWAY, min_dwell_s=0.5)
    pipeline = CameraAnalytics(
        CAMERA,
        detector,
        ObjectTracker(TrackerConfig(), fps=FPS),
        [build_rule(rule)],
        snapshot=render_snapshot,
    )

    events: list[Event] = []
    true_positives = detections = truths = 0
    with av.open(str(vtest_path)) as container:
        for index, decoded in enumerate(container.decode(video=0)):
            if index >= FRAMES:
                break
            image = np.asarray(decoded.to_ndarray(format="bgr24"), dtype=np.uint8)
            frame = Frame(
                image=image, index=index, pts_s=index / FPS, wall_time=T0 + timedelta(seconds=index / FPS)
            )
            events += [message.event for message in pipeline.process(frame)]
            if index < detector_config.warmup_frames:
                continue
            found = detector.last.xyxy
            frame_truth = truth.get(index, np.zeros((0, 4)))
            true_positives += matches(frame_truth, found)
            detections += len(found)
            truths += len(frame_truth)

    recall = true_positives / truths
    precision = true_positives / detections
    matched_events = sum(event_matches_truth(e, truth.get(e.frame_index, np.zeros((0, 4)))) for e in events)
    print(
        f"\nPETS09 S2L1 frames {detector_config.warmup_frames}..{FRAMES - 1}: motion detector "
        f"recall {recall:.3f}, precision {precision:.3f} at IoU {IOU_MATCH} "
        f"({true_positives} matched, {detections} detections, {truths} ground-truth boxes); "
        f"{len(events)} zone events, {matched_events} on a ground-truth person; stats {pipeline.stats}"
    )
    # Measured with the default settings: recall 0.683, precision 0.889, 44 events, all on a person.
    assert recall >= 0.6
    assert precision >= 0.8
    assert len(events) >= 25
    assert matched_events >= 0.85 * len(events)
    assert len({e.id for e in events}) == len(events)
