"""Measuring analytics against ground truth (MOTChallenge): detection AP50, MOTA, IDF1."""

from hwarang.edge.evaluation.metrics import (
    GroundTruthFrame,
    MotEvaluator,
    MotMetrics,
    iou_distances,
    load_mot_ground_truth,
)
from hwarang.edge.evaluation.run import MotReport, evaluate_mot

__all__ = [
    "GroundTruthFrame",
    "MotEvaluator",
    "MotMetrics",
    "MotReport",
    "evaluate_mot",
    "iou_distances",
    "load_mot_ground_truth",
]
