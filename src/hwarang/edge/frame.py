"""The unit that flows from a source through analytics."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hwarang.domain import ObjectClass

if TYPE_CHECKING:
    from av.video.frame import VideoFrame


@dataclass(frozen=True, slots=True)
class TruthBox:
    """Ground truth of a synthetic scene: where a rendered figure really is."""

    object_id: int
    object_class: ObjectClass
    xyxy: tuple[float, float, float, float]


class Frame:
    """A decoded BGR image with its position in the stream.

    ``pts_s`` is seconds since the stream start (from the container's timestamps, not the wall clock);
    analytics use it as their clock so that results do not depend on processing speed.

    A video source may hand over the decoded picture unconverted (:meth:`deferred`): the BGR image
    is made the first time ``image`` is read, so a frame skipped by ``analysis_fps`` never pays for
    the conversion. A conversion that fails raises :class:`FrameConversionError` there.
    """

    __slots__ = ("_convert", "_image", "_size", "index", "pts_s", "truth", "wall_time")

    def __init__(
        self,
        image: npt.NDArray[np.uint8],
        index: int,
        pts_s: float,
        wall_time: datetime,
        truth: tuple[TruthBox, ...] | None = None,
    ) -> None:
        self._image: npt.NDArray[np.uint8] | None = image
        self._convert: Callable[[], npt.NDArray[np.uint8]] | None = None
        self._size = (int(image.shape[1]), int(image.shape[0]))
        self.index = index
        self.pts_s = pts_s
        self.wall_time = wall_time
        self.truth = truth

    @classmethod
    def deferred(
        cls,
        convert: Callable[[], npt.NDArray[np.uint8]],
        size: tuple[int, int],
        index: int,
        pts_s: float,
        wall_time: datetime,
    ) -> "Frame":
        """A frame whose image ``convert()`` makes on first use; ``size`` is (width, height)."""
        frame = cls.__new__(cls)
        frame._image, frame._convert, frame._size = None, convert, (int(size[0]), int(size[1]))
        frame.index, frame.pts_s, frame.wall_time, frame.truth = index, pts_s, wall_time, None
        return frame

    @property
    def image(self) -> npt.NDArray[np.uint8]:
        """The BGR image (converted now if the source deferred it)."""
        image = self._image
        if image is None:
            assert self._convert is not None  # a frame has an image or a way to make one
            image = self._convert()
            self._image, self._convert = image, None
        return image

    @property
    def converted(self) -> bool:
        """True once the BGR image exists (always for frames built from an image)."""
        return self._image is not None

    @property
    def width(self) -> int:
        return self._size[0]

    @property
    def height(self) -> int:
        return self._size[1]

    def __repr__(self) -> str:
        return f"Frame(index={self.index}, pts_s={self.pts_s:.3f}, size={self._size[0]}x{self._size[1]})"


class FrameConversionError(ValueError):
    """A decoded picture could not be turned into a BGR image."""


def bgr_converter(
    video_frame: "VideoFrame", on_error: Callable[[str], None], where: str
) -> Callable[[], npt.NDArray[np.uint8]]:
    """A ``convert`` for :meth:`Frame.deferred`: PyAV frame -> BGR; a failure is reported, then raised."""

    def convert() -> npt.NDArray[np.uint8]:
        try:
            return np.asarray(video_frame.to_ndarray(format="bgr24"), dtype=np.uint8)
        except Exception as exc:
            message = f"cannot convert {where} to BGR: {exc}"
            on_error(message)
            raise FrameConversionError(message) from exc

    return convert
