"""The detector protocol and the plugin registry keyed by config ``type``."""

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import supervision as sv
from pydantic import BaseModel

from hwarang.edge.errors import AnalyticsError
from hwarang.edge.frame import Frame


class Detector(Protocol):
    """Finds objects in a frame.

    Returns ``sv.Detections`` with ``xyxy`` in full-resolution pixels, ``confidence`` in 0..1 and
    ``class_id`` encoding Hwarang classes as in ``hwarang.edge.analytics.classes``.
    """

    def detect(self, frame: Frame) -> sv.Detections:
        """Detect objects in ``frame`` (the image is never modified)."""
        ...


ConfigT = TypeVar("ConfigT", bound=BaseModel)
DetectorFactory = Callable[[Any], Detector]

_FACTORIES: dict[str, DetectorFactory] = {}


def register_detector(
    detector_type: str,
) -> Callable[[Callable[[ConfigT], Detector]], Callable[[ConfigT], Detector]]:
    """Register the decorated factory as the builder of detectors whose config ``type`` is given.

    Plugins import heavy runtimes (ONNX Runtime, OpenVINO) inside the factory, never at module level,
    so that reading a configuration never needs them.
    """

    def decorate(factory: Callable[[ConfigT], Detector]) -> Callable[[ConfigT], Detector]:
        if detector_type in _FACTORIES:
            raise AnalyticsError(f"detector type {detector_type!r} is registered twice")
        _FACTORIES[detector_type] = factory
        return factory

    return decorate


def detector_types() -> tuple[str, ...]:
    """The registered detector types, sorted."""
    return tuple(sorted(_FACTORIES))


def create_detector(config: BaseModel) -> Detector:
    """Build the detector that ``config`` describes, by its ``type``."""
    detector_type = getattr(config, "type", None)
    factory = _FACTORIES.get(detector_type) if isinstance(detector_type, str) else None
    if factory is None:
        known = ", ".join(detector_types()) or "none"
        raise AnalyticsError(f"unknown detector type {detector_type!r}; known types: {known}")
    return factory(config)
