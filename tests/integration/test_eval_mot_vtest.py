"""`hwarang eval mot` on the PETS 2009 clip with YOLOX-nano against the MOT15 ground truth."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hwarang.cli import app

# The operating point documented in docs/models.md (tuned on this clip; see docs/benchmarks.md).
TRACKER = (
    "{track_activation_threshold: 0.7, high_conf_det_threshold: 0.6, minimum_iou_threshold: 0.1, "
    "minimum_consecutive_frames: 3, lost_track_buffer_s: 3.0}"
)


@pytest.mark.integration
def test_eval_mot_yolox_nano_meets_the_issue_floors(shared_data: Path, vtest_path: Path) -> None:
    model = shared_data / "models" / "yolox_nano.onnx"
    gt = shared_data / "video" / "PETS09-S2L1_gt_MOT15.txt"
    result = CliRunner().invoke(
        app,
        [
            "eval", "mot", str(vtest_path), str(gt),
            "--detector", f"{{type: onnx-yolox, model_path: '{model}', min_confidence: 0.6}}",
            "--tracker", TRACKER,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["frames"] == 795 and report["detector"] == "onnx-yolox"
    assert report["ap50"] >= 0.88
    assert report["mota"] >= 0.70
    assert report["idf1"] >= 0.70
    assert report["precision"] >= 0.85 and report["recall"] >= 0.85
    assert report["detector_stats"]["full_frame_inferences"] == 795


@pytest.mark.integration
def test_eval_mot_with_the_shipped_defaults_meets_the_floors(shared_data: Path, vtest_path: Path) -> None:
    """No --detector, no --tracker: the demo camera's NanoDet (from `make models`), motion-gated."""
    gt = shared_data / "video" / "PETS09-S2L1_gt_MOT15.txt"
    result = CliRunner().invoke(app, ["eval", "mot", str(vtest_path), str(gt)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["frames"] == 795
    assert (report["detector"], report["gating"]) == ("onnx-nanodet", "motion")
    assert report["ap50"] >= 0.87
    assert report["mota"] >= 0.72
    assert report["idf1"] >= 0.72
