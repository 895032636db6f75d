"""MOT metrics on tiny synthetic sequences with known answers."""

from pathlib import Path

import numpy as np
import pytest

from hwarang.edge.errors import AnalyticsError
from hwarang.edge.evaluation import GroundTruthFrame, MotEvaluator, load_mot_ground_truth

A = [0.0, 0.0, 10.0, 20.0]
B = [50.0, 0.0, 60.0, 20.0]


def truth() -> GroundTruthFrame:
    return GroundTruthFrame(ids=np.array([1, 2]), boxes=np.array([A, B], dtype=np.float32))


def boxes(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float32).reshape(-1, 4)


def test_perfect_detection_and_tracking_score_one() -> None:
    evaluator = MotEvaluator(operating_threshold=0.5)
    for _ in range(4):
        evaluator.add_frame(truth(), boxes(A, B), np.array([0.9, 0.8]), np.array([7, 8]), boxes(A, B))
    result = evaluator.compute()
    assert result.frames == 4 and result.ground_truth == 8
    assert result.ap50 == pytest.approx(1.0) and result.precision == 1.0 and result.recall == 1.0
    assert result.mota == 1.0 and result.idf1 == 1.0 and result.id_switches == 0


def test_misses_false_positives_and_an_identity_switch() -> None:
    evaluator = MotEvaluator(operating_threshold=0.5)
    far = [200.0, 200.0, 210.0, 220.0]
    # frame 1: both found; frame 2: B missed, a low-score false positive; frames 3-4: track of A changes id
    evaluator.add_frame(truth(), boxes(A, B), np.array([0.9, 0.9]), np.array([1, 2]), boxes(A, B))
    evaluator.add_frame(truth(), boxes(A, far), np.array([0.9, 0.3]), np.array([1]), boxes(A))
    evaluator.add_frame(truth(), boxes(A, B), np.array([0.9, 0.9]), np.array([3, 2]), boxes(A, B))
    evaluator.add_frame(truth(), boxes(A, B), np.array([0.9, 0.9]), np.array([3, 2]), boxes(A, B))
    result = evaluator.compute()
    assert result.recall == pytest.approx(7 / 8) and result.precision == 1.0  # the 0.3 box is below 0.5
    assert result.detections == 7
    assert result.id_switches == 1
    assert result.mota == pytest.approx(1 - (1 + 0 + 1) / 8)  # one miss, one switch
    assert 0.5 < result.idf1 < 1.0
    assert 0.8 < result.ap50 < 1.0  # the false positive ranks below every true one: AP just under 1


def test_load_ground_truth_uses_one_based_frames_and_skips_ignored_rows(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("1,9,499,158,31,75,1,-1,-1,-1\n1,4,10,10,5,5,0,-1,-1,-1\n3,9,500,160,31,75,1,-1,-1,-1\n")
    frames = load_mot_ground_truth(gt)
    assert sorted(frames) == [1, 3] and frames[1].ids.tolist() == [9]
    np.testing.assert_allclose(frames[1].boxes, [[499, 158, 530, 233]])
    gt.write_text("1,9,oops\n")
    with pytest.raises(AnalyticsError, match=r"gt\.txt:1: not a MOTChallenge row"):
        load_mot_ground_truth(gt)
    with pytest.raises(AnalyticsError, match="no frames"):
        MotEvaluator(operating_threshold=0.5).compute()
