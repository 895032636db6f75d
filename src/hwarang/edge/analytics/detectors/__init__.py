"""Detector plugins, one module each, selected by the config's ``type``.

To add a runtime, write ``detectors/<name>.py`` with a config class (``type: Literal["<name>"]``) and a
factory decorated with ``@register_detector("<name>")``, then add the config class to
``DetectorConfig`` below.
"""

from typing import Annotated

from pydantic import Field

from hwarang.edge.analytics.detectors.base import Detector, create_detector, detector_types, register_detector
from hwarang.edge.analytics.detectors.gating import DetectorStats
from hwarang.edge.analytics.detectors.model_config import GatingConfig, ModelDetectorConfigBase
from hwarang.edge.analytics.detectors.model_detector import ModelDetector
from hwarang.edge.analytics.detectors.motion import MotionDetectorConfig
from hwarang.edge.analytics.detectors.openvino_ir import OpenVinoDetectorConfig
from hwarang.edge.analytics.detectors.yolo import YoloDetectorConfig
from hwarang.edge.analytics.detectors.yolox import YoloxDetectorConfig

DetectorConfig = Annotated[
    MotionDetectorConfig | YoloxDetectorConfig | YoloDetectorConfig | OpenVinoDetectorConfig,
    Field(discriminator="type"),
]
"""Any detector configuration; pydantic picks the plugin by ``type``."""


def build_detector(config: DetectorConfig) -> Detector:
    """Build the detector ``config`` describes (raises ``AnalyticsError`` for an unknown type)."""
    return create_detector(config)


__all__ = [
    "Detector",
    "DetectorConfig",
    "DetectorStats",
    "GatingConfig",
    "ModelDetector",
    "ModelDetectorConfigBase",
    "MotionDetectorConfig",
    "OpenVinoDetectorConfig",
    "YoloDetectorConfig",
    "YoloxDetectorConfig",
    "build_detector",
    "detector_types",
    "register_detector",
]
