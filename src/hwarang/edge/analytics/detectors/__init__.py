"""Detector plugins, one module each, selected by the config's ``type``.

To add a runtime, write ``detectors/<name>.py`` with a config class (``type: Literal["<name>"]``) whose
``build()`` returns the detector, then add the config class to ``DetectorConfig`` below
(``hwarang.plugins``).
"""

import logging
from typing import Annotated

from pydantic import Field

from hwarang.domain import DetectorInfo
from hwarang.edge.analytics.detectors.base import Detector, DetectorPluginConfig
from hwarang.edge.analytics.detectors.gating import DetectorStats
from hwarang.edge.analytics.detectors.model_config import GatingConfig, ModelDetectorConfigBase
from hwarang.edge.analytics.detectors.model_detector import ModelDetector
from hwarang.edge.analytics.detectors.motion import MotionDetectorConfig
from hwarang.edge.analytics.detectors.nanodet import NanoDetDetectorConfig
from hwarang.edge.analytics.detectors.openvino_ir import OpenVinoDetectorConfig
from hwarang.edge.analytics.detectors.yolo import YoloDetectorConfig
from hwarang.edge.analytics.detectors.yolox import YoloxDetectorConfig
from hwarang.edge.errors import AnalyticsError
from hwarang.plugins import Registry, plugin_type

DetectorConfig = Annotated[
    MotionDetectorConfig
    | NanoDetDetectorConfig
    | YoloxDetectorConfig
    | YoloDetectorConfig
    | OpenVinoDetectorConfig,
    Field(discriminator="type"),
]
"""Any detector configuration; pydantic picks the plugin by ``type``."""

DETECTORS: Registry[DetectorPluginConfig] = Registry("detector", DetectorConfig, error=AnalyticsError)
"""The detector plugins, read from ``DetectorConfig``."""


logger = logging.getLogger(__name__)


def build_detector(config: DetectorPluginConfig) -> Detector:
    """Build the detector ``config`` describes (raises ``AnalyticsError`` for an unknown type).

    A model detector whose ``model`` is not in the store falls back to the motion-only detector when
    its ``fallback`` is 'motion' (the default), with a WARNING; a corrupt model never falls back.
    """
    from hwarang.edge.models import ModelNotFoundError

    try:
        return DETECTORS.check(config).build()
    except ModelNotFoundError as exc:
        if not isinstance(config, ModelDetectorConfigBase) or config.fallback != "motion":
            raise
        logger.warning(
            "%s detector: %s; FALLING BACK to the motion-only detector: object classes are shape guesses "
            "(run `make models` to install the default NanoDet model)",
            plugin_type(type(config)),
            exc,
        )
        return MotionDetectorConfig(type="motion").build()


def detector_types() -> tuple[str, ...]:
    """The detector plugin types, sorted."""
    return DETECTORS.types


def describe_detector(detector: Detector) -> DetectorInfo | None:
    """Which detector this is (model name and SHA-256, or motion-only), if it says."""
    info = getattr(detector, "info", None)
    return info if isinstance(info, DetectorInfo) else None


__all__ = [
    "DETECTORS",
    "Detector",
    "DetectorConfig",
    "DetectorPluginConfig",
    "DetectorStats",
    "GatingConfig",
    "ModelDetector",
    "ModelDetectorConfigBase",
    "MotionDetectorConfig",
    "NanoDetDetectorConfig",
    "OpenVinoDetectorConfig",
    "YoloDetectorConfig",
    "YoloxDetectorConfig",
    "build_detector",
    "describe_detector",
    "detector_types",
]
