"""Measuring analytics against ground truth (MOTChallenge): detection AP50, MOTA, IDF1, and alarms."""

from hwarang.edge.evaluation.alarm_run import AlarmReport, RuleAlarmReport, evaluate_alarms
from hwarang.edge.evaluation.alarms import (
    AlarmEvaluator,
    AlarmSpec,
    ExpectedAlarm,
    LineSpec,
    RaisedAlarm,
    RuleScore,
    ZoneSpec,
    alarm_spec,
)
from hwarang.edge.evaluation.metrics import (
    GroundTruthFrame,
    MotEvaluator,
    MotMetrics,
    iou_distances,
    load_mot_ground_truth,
)
from hwarang.edge.evaluation.run import MotReport, evaluate_mot

__all__ = [
    "AlarmEvaluator",
    "AlarmReport",
    "AlarmSpec",
    "ExpectedAlarm",
    "GroundTruthFrame",
    "LineSpec",
    "MotEvaluator",
    "MotMetrics",
    "MotReport",
    "RaisedAlarm",
    "RuleAlarmReport",
    "RuleScore",
    "ZoneSpec",
    "alarm_spec",
    "evaluate_alarms",
    "evaluate_mot",
    "iou_distances",
    "load_mot_ground_truth",
]
