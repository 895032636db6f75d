"""The ByteTrack wrapper on scripted detections at 10 fps."""

import numpy as np
import pytest
import supervision as sv

from hwarang.edge.analytics.tracking import ObjectTracker, TrackerConfig
from hwarang.edge.errors import AnalyticsError


def boxes(*xyxy: tuple[float, float, float, float], confidence: float = 0.6) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(xyxy, dtype=np.float32).reshape(-1, 4),
        confidence=np.full(len(xyxy), confidence, dtype=np.float32),
        class_id=np.zeros(len(xyxy), dtype=int),
    )


def test_one_id_for_a_smoothly_moving_box() -> None:
    tracker = ObjectTracker(TrackerConfig(), fps=10.0)
    ids: list[list[int]] = []
    for frame in range(20):
        x = 50.0 + 6.0 * frame
        tracked = tracker.update(boxes((x, 100.0, x + 30.0, 180.0)), frame / 10)
        assert tracked.tracker_id is not None
        ids.append([int(t) for t in tracked.tracker_id])
    # Confirmed after minimum_consecutive_frames (3), then the same id every frame.
    assert ids[:2] == [[], []]
    assert all(frame_ids == [ids[2][0]] for frame_ids in ids[2:])


def test_two_objects_get_two_ids_and_input_is_untouched() -> None:
    tracker = ObjectTracker(TrackerConfig(minimum_consecutive_frames=1), fps=10.0)
    seen: set[int] = set()
    for frame in range(10):
        detections = boxes(
            (10.0 + 4 * frame, 10.0, 40.0 + 4 * frame, 90.0),
            (300.0, 50.0 + 4 * frame, 330.0, 130.0 + 4 * frame),
        )
        tracked = tracker.update(detections, frame / 10)
        assert detections.tracker_id is None
        assert tracked.tracker_id is not None
        # ByteTrack reports a new track from its second frame, even with minimum_consecutive_frames=1.
        assert len(tracked) == (0 if frame == 0 else 2)
        seen.update(int(t) for t in tracked.tracker_id)
    assert len(seen) == 2


def test_low_confidence_boxes_do_not_start_tracks() -> None:
    tracker = ObjectTracker(TrackerConfig(track_activation_threshold=0.5), fps=10.0)
    for frame in range(10):
        assert len(tracker.update(boxes((50.0, 50.0, 80.0, 130.0), confidence=0.2), frame / 10)) == 0


def test_a_lost_track_is_dropped_after_the_buffer_and_ids_restart_after_reset() -> None:
    config = TrackerConfig(minimum_consecutive_frames=1, lost_track_buffer_s=0.5)
    tracker = ObjectTracker(config, fps=10.0)
    box = (50.0, 50.0, 80.0, 130.0)
    tracker.update(boxes(box), 0.0)
    first = tracker.update(boxes(box), 0.1)
    assert first.tracker_id is not None and list(first.tracker_id) == [0]
    tracker.update(boxes(), 0.2)
    kept = tracker.update(boxes(box), 0.3)  # within the 0.5 s buffer: the same track
    assert kept.tracker_id is not None and list(kept.tracker_id) == [0]
    tracker.update(boxes(box), 2.0)  # long after the buffer: a new, unconfirmed track
    again = tracker.update(boxes(box), 2.1)
    assert again.tracker_id is not None and list(again.tracker_id) == [1]
    tracker.reset()
    tracker.update(boxes(box), 0.0)
    fresh = tracker.update(boxes(box), 0.1)
    assert fresh.tracker_id is not None and list(fresh.tracker_id) == [0]


def test_time_going_backwards_resets() -> None:
    tracker = ObjectTracker(TrackerConfig(minimum_consecutive_frames=1), fps=10.0)
    for frame in range(5):
        tracker.update(boxes((50.0, 50.0, 80.0, 130.0)), 10.0 + frame / 10)
    tracker.update(boxes((200.0, 50.0, 230.0, 130.0)), 0.0)
    restarted = tracker.update(boxes((200.0, 50.0, 230.0, 130.0)), 0.1)
    assert restarted.tracker_id is not None and list(restarted.tracker_id) == [0]


def test_bad_fps_is_rejected() -> None:
    with pytest.raises(AnalyticsError, match="fps must be a positive number, got 0"):
        ObjectTracker(TrackerConfig(), fps=0.0)
