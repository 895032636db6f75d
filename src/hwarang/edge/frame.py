"""The unit that flows from a source through analytics."""

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from hwarang.domain import ObjectClass


@dataclass(frozen=True, slots=True)
class TruthBox:
    """Ground truth of a synthetic scene: where a rendered figure really is."""

    object_id: int
    object_class: ObjectClass
    xyxy: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded BGR image with its position in the stream.

    ``pts_s`` is seconds since the stream start (from the container's timestamps, not the wall clock);
    analytics use it as their clock so that results do not depend on processing speed.
    """

    image: npt.NDArray[np.uint8]
    index: int
    pts_s: float
    wall_time: datetime
    truth: tuple[TruthBox, ...] | None = field(default=None)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])
