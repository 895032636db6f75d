"""The detector protocol every detector plugin implements."""

from abc import ABC, abstractmethod
from typing import Protocol

import supervision as sv
from pydantic import BaseModel

from hwarang.edge.frame import Frame


class Detector(Protocol):
    """Finds objects in a frame.

    Returns ``sv.Detections`` with ``xyxy`` in full-resolution pixels, ``confidence`` in 0..1 and
    ``class_id`` encoding Hwarang classes as in ``hwarang.edge.analytics.classes``.
    """

    def detect(self, frame: Frame) -> sv.Detections:
        """Detect objects in ``frame`` (the image is never modified)."""
        ...


class DetectorPluginConfig(BaseModel, ABC):
    """Base of every detector plugin's config: a ``type`` literal and ``build``."""

    @abstractmethod
    def build(self) -> Detector:
        """The detector this config describes (heavy runtimes imported here, not at module level)."""
