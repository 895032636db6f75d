"""MOTChallenge ground truth and the metrics of a detector + tracker against it (pure functions).

Detection AP50 comes from ``supervision.metrics.MeanAveragePrecision``; precision / recall at the
operating threshold and MOTA / IDF1 / ID switches from ``motmetrics`` (IoU >= 0.5 matches). The
distance matrices are computed here with ``supervision.box_iou_batch`` because motmetrics 1.4's own
helper no longer runs on NumPy 2.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import motmetrics as mm
import numpy as np
import numpy.typing as npt
import supervision as sv
from supervision.metrics import MeanAveragePrecision

from hwarang.edge.errors import AnalyticsError

IOU_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class GroundTruthFrame:
    """The annotated objects of one frame: identities and xyxy boxes."""

    ids: npt.NDArray[np.int_]
    boxes: npt.NDArray[np.float32]


def load_mot_ground_truth(path: Path) -> dict[int, GroundTruthFrame]:
    """Read a MOTChallenge ``gt.txt`` (frame, id, left, top, width, height, conf, ...) by frame number.

    Frames are numbered from 1 (frame 1 is the video's first frame, index 0); rows with ``conf`` 0
    are "ignore" annotations and are skipped. Raises ``AnalyticsError`` naming the file and line.
    """
    rows: dict[int, list[tuple[int, float, float, float, float]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AnalyticsError(f"cannot read ground truth {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split(",")
        try:
            frame, track = int(float(parts[0])), int(float(parts[1]))
            left, top, width, height = (float(v) for v in parts[2:6])
            conf = float(parts[6]) if len(parts) > 6 else 1.0
        except (ValueError, IndexError) as exc:
            raise AnalyticsError(f"{path}:{number}: not a MOTChallenge row: {line!r}") from exc
        if conf != 0:
            rows.setdefault(frame, []).append((track, left, top, left + width, top + height))
    return {
        frame: GroundTruthFrame(
            ids=np.array([r[0] for r in items], dtype=int),
            boxes=np.array([r[1:] for r in items], dtype=np.float32).reshape(-1, 4),
        )
        for frame, items in rows.items()
    }


def iou_distances(gt: npt.NDArray[np.float32], hyp: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """motmetrics distances ``1 - IoU``, NaN where IoU < 0.5 (no match possible)."""
    if len(gt) == 0 or len(hyp) == 0:
        return np.empty((len(gt), len(hyp)))
    iou = np.asarray(sv.box_iou_batch(gt.astype(np.float64), hyp.astype(np.float64)), dtype=np.float64)
    return np.where(iou >= IOU_THRESHOLD, 1.0 - iou, np.nan)


@dataclass(frozen=True, slots=True)
class MotMetrics:
    """Results of one sequence (all fractions 0..1; ``ap50`` is COCO-style, 101-point)."""

    frames: int
    ap50: float
    precision: float
    recall: float
    mota: float
    idf1: float
    id_switches: int
    ground_truth: int
    detections: int


@dataclass(slots=True)
class MotEvaluator:
    """Accumulates frames of ground truth, scored detections and tracks; ``compute`` scores them.

    ``operating_threshold`` is the confidence at which the detector feeds the tracker: precision and
    recall count detections at or above it; AP50 uses every detection given.
    """

    operating_threshold: float
    _frames: int = 0
    _detections: int = 0
    _ground_truth: int = 0
    _predictions: list[sv.Detections] = field(default_factory=list)
    _targets: list[sv.Detections] = field(default_factory=list)
    _detection_acc: Any = field(default_factory=lambda: mm.MOTAccumulator(auto_id=True))
    _track_acc: Any = field(default_factory=lambda: mm.MOTAccumulator(auto_id=True))

    def add_frame(
        self,
        truth: GroundTruthFrame | None,
        boxes: npt.NDArray[np.float32],
        scores: npt.NDArray[np.float32],
        track_ids: npt.NDArray[np.int_],
        track_boxes: npt.NDArray[np.float32],
    ) -> None:
        """One frame: its truth (``None``: nobody), scored detections, and confirmed tracks."""
        gt = truth or GroundTruthFrame(np.zeros(0, dtype=int), np.zeros((0, 4), dtype=np.float32))
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float32).reshape(-1)
        self._frames += 1
        self._ground_truth += len(gt.ids)
        self._predictions.append(
            sv.Detections(xyxy=boxes, confidence=scores, class_id=np.zeros(len(boxes), dtype=int))
        )
        self._targets.append(sv.Detections(xyxy=gt.boxes, class_id=np.zeros(len(gt.boxes), dtype=int)))
        operating = boxes[scores >= self.operating_threshold]
        self._detections += len(operating)
        self._detection_acc.update(
            gt.ids.tolist(), list(range(len(operating))), iou_distances(gt.boxes, operating)
        )
        track_boxes = np.asarray(track_boxes, dtype=np.float32).reshape(-1, 4)
        self._track_acc.update(
            gt.ids.tolist(), np.asarray(track_ids).tolist(), iou_distances(gt.boxes, track_boxes)
        )

    def compute(self) -> MotMetrics:
        """Score everything added so far."""
        if self._frames == 0:
            raise AnalyticsError("MOT evaluation: no frames were evaluated")
        ap50 = float(MeanAveragePrecision().update(self._predictions, self._targets).compute().map50)
        host = mm.metrics.create()
        det = _summary(host, self._detection_acc, ["precision", "recall"])
        trk = _summary(host, self._track_acc, ["mota", "idf1", "num_switches"])
        return MotMetrics(
            frames=self._frames,
            ap50=max(ap50, 0.0),
            precision=_finite(det["precision"]),
            recall=_finite(det["recall"]),
            mota=_finite(trk["mota"]),
            idf1=_finite(trk["idf1"]),
            id_switches=int(trk["num_switches"]),
            ground_truth=self._ground_truth,
            detections=self._detections,
        )


def _summary(host: Any, accumulator: Any, metrics: list[str]) -> Mapping[str, float]:
    frame = host.compute(accumulator, metrics=metrics, name="sequence")
    return {name: float(frame[name].iloc[0]) for name in metrics}


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else 0.0
