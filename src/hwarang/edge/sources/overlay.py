"""A real video file with synthetic figures drawn into its frames: exercise intruders for real analytics.

The figures are drawn with the synthetic scene's sprites (:mod:`hwarang.edge.sources.scene`) along a
path of ``(t_s, x, y)`` bottom-centre waypoints in stream time (``pts``). Each frame carries the
drawn figures as ``truth`` boxes, so an exercise can tell the events its figures caused from events
about real people in the clip (:func:`tag_exercise`; camera workers apply it to every overlay camera).

Figures come from the config (``figures``) or are added while the source plays: a playing overlay
source registers itself under its camera id (:func:`live_overlay`), and :meth:`OverlaySource.add_figure`
is thread-safe.
"""

import itertools
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hwarang.domain import BoundingBox, EventMessage, ObjectClass
from hwarang.edge.frame import Frame, TruthBox
from hwarang.edge.sources.base import BaseSource, FrameSource, SourcePluginConfig, SourceStats
from hwarang.edge.sources.file import FileSource, FileSourceConfig
from hwarang.edge.sources.scene import Figure, Image, Waypoint, _figure_sprite

__all__ = ["OverlayFigure", "OverlaySource", "OverlaySourceConfig", "live_overlay"]

_SHADE = 34
"""Grey level of drawn figures (dark clothing), as in the synthetic scene."""


class OverlayFigure(BaseModel):
    """One synthetic figure drawn into the clip."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    object_class: ObjectClass = Field(
        default=ObjectClass.PERSON, description="What the figure looks like: person or vehicle sprite."
    )
    start_s: float = Field(ge=0.0, description="Stream time (seconds from the first frame) it appears.")
    path: list[tuple[float, float, float]] = Field(
        min_length=1,
        description="Waypoints [t_s, x, y]: seconds after start_s, and the bottom-centre pixel there.",
    )
    size: tuple[float, float] = Field(
        default=(40.0, 110.0), description="Width and height of the figure in pixels."
    )
    label: str | None = Field(default=None, description="What injected it (an exercise inject id).")

    @field_validator("path")
    @classmethod
    def _times_increase(cls, value: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
        times = [t for t, _x, _y in value]
        if times[0] < 0 or any(b < a for a, b in itertools.pairwise(times)):
            raise ValueError(f"waypoint times must start at >= 0 and not decrease, got {times}")
        return value

    @field_validator("size")
    @classmethod
    def _positive_size(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 4 or value[1] < 6:
            raise ValueError(f"figure size must be at least 4x6 pixels, got {value[0]}x{value[1]}")
        return value

    def figure(self, object_id: int) -> Figure:
        """The scene figure with absolute stream times."""
        path = tuple(Waypoint(self.start_s + t, x, y) for t, x, y in self.path)
        return Figure(object_id, self.object_class, path, self.size, _SHADE)


class OverlaySourceConfig(SourcePluginConfig):
    """A video file with synthetic figures drawn into it (exercise injects at a real camera)."""

    type: Literal["overlay"] = Field(
        default="overlay", description="Source plugin: a file with synthetic figures drawn in."
    )
    base: FileSourceConfig = Field(description="The real video the figures are drawn into.")
    figures: list[OverlayFigure] = Field(
        default_factory=list, description="Figures to draw; more can be added while it plays."
    )

    def build(self, *, camera_id: str) -> FrameSource:
        """An ``OverlaySource`` for this config."""
        return OverlaySource(self, camera_id=camera_id)


_live: "weakref.WeakValueDictionary[str, OverlaySource]" = weakref.WeakValueDictionary()
_live_lock = threading.Lock()


def live_overlay(camera_id: str) -> "OverlaySource | None":
    """The overlay source now playing for ``camera_id`` in this process, if any."""
    with _live_lock:
        return _live.get(camera_id)


class OverlaySource(BaseSource):
    """Decodes the base file and draws the active figures into each frame (frames carry their truth)."""

    def __init__(self, config: OverlaySourceConfig, *, camera_id: str) -> None:
        super().__init__(camera_id)
        self._config = config
        self._base = FileSource(config.base, camera_id=camera_id)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._figures: dict[int, Figure] = {}
        self._labels: dict[int, str | None] = {}
        self._last_pts_s = 0.0
        for figure in config.figures:
            self.add_figure(figure)

    @property
    def fps(self) -> float:
        """Frame rate of the base file."""
        return self._base.fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the base file."""
        return self._base.size

    @property
    def stats(self) -> SourceStats:
        """The base file's counters."""
        return self._base.stats

    @property
    def last_pts_s(self) -> float:
        """Stream time of the last frame delivered (0.0 before the first)."""
        return self._last_pts_s

    def add_figure(self, figure: OverlayFigure) -> int:
        """Draw ``figure`` from its ``start_s`` on (thread-safe); returns its object id."""
        with self._lock:
            object_id = next(self._ids)
            self._figures[object_id] = figure.figure(object_id)
            self._labels[object_id] = figure.label
        return object_id

    def label_of(self, object_id: int) -> str | None:
        """The label a figure was added with."""
        with self._lock:
            return self._labels.get(object_id)

    def open(self) -> None:
        """Open the base file."""
        self._base.open()

    def frames(self) -> Iterator[Frame]:
        """The base file's frames with the figures drawn in; registered as live while it plays."""
        with _live_lock:
            _live[self.camera_id] = self
        try:
            for frame in self._base.frames():
                self._last_pts_s = frame.pts_s
                yield self._draw(frame)
                if self.stopped:
                    break
        finally:
            with _live_lock:
                if _live.get(self.camera_id) is self:
                    del _live[self.camera_id]

    def stop(self) -> None:
        """Ask ``frames()`` to end promptly (thread-safe)."""
        super().stop()
        self._base.stop()

    def on_events(self, frame: Frame, messages: Sequence[EventMessage]) -> list[EventMessage]:
        """Events on a figure drawn in are the exercise's (the :class:`EventHook` of this source)."""
        return tag_exercise(frame, messages)

    def close(self) -> None:
        """Stop and release the base file."""
        self.stop()
        self._base.close()

    def _draw(self, frame: Frame) -> Frame:
        with self._lock:
            figures = list(self._figures.values())
        placed = [(f, f.position(frame.pts_s)) for f in figures]
        active = [(f, anchor) for f, anchor in placed if anchor is not None]
        if not active:
            return frame
        image = frame.image.copy()
        truth = list(frame.truth or ())
        for figure, anchor in sorted(active, key=lambda item: (item[1][1], item[0].object_id)):
            box = draw_figure(image, figure, anchor)
            if box is not None:
                truth.append(TruthBox(figure.object_id, figure.object_class, box))
        return Frame(image, frame.index, frame.pts_s, frame.wall_time, tuple(truth))


def draw_figure(
    image: Image, figure: Figure, anchor: tuple[float, float]
) -> tuple[float, float, float, float] | None:
    """Draw ``figure`` with its bottom centre at ``anchor``; its drawn box (clipped), None off-frame."""
    height, width = image.shape[:2]
    fw, fh = max(round(figure.size[0]), 4), max(round(figure.size[1]), 6)
    x1, y1 = round(anchor[0] - fw / 2.0), round(anchor[1]) - fh
    cx1, cy1 = max(x1, 0), max(y1, 0)
    cx2, cy2 = min(x1 + fw, width), min(y1 + fh, height)
    if cx2 <= cx1 or cy2 <= cy1:
        return None
    patch, mask = _figure_sprite(figure, fw, fh)
    sx, sy = cx1 - x1, cy1 - y1
    sub_mask = mask[sy : sy + cy2 - cy1, sx : sx + cx2 - cx1] > 0
    target = image[cy1:cy2, cx1:cx2]
    target[sub_mask] = patch[sy : sy + cy2 - cy1, sx : sx + cx2 - cx1][sub_mask]
    rows, cols = np.flatnonzero(sub_mask.any(axis=1)), np.flatnonzero(sub_mask.any(axis=0))
    if rows.size == 0:
        return None
    return (float(cx1 + cols[0]), float(cy1 + rows[0]), float(cx1 + cols[-1] + 1), float(cy1 + rows[-1] + 1))


MIN_OVERLAP = 0.3
"""Share of an event box that must lie on a drawn figure for the event to be the exercise's."""


def _overlap(box: BoundingBox, truth: TruthBox) -> float:
    x1, y1, x2, y2 = truth.xyxy
    width = min(box.x2, x2) - max(box.x1, x1)
    height = min(box.y2, y2) - max(box.y1, y1)
    if width <= 0 or height <= 0:
        return 0.0
    area = max((box.x2 - box.x1) * (box.y2 - box.y1), 1e-9)
    return width * height / area


def tag_exercise(frame: Frame, messages: Sequence[EventMessage]) -> list[EventMessage]:
    """The messages, with ``exercise=True`` on those whose box lies on a figure drawn in ``frame``."""
    truth = frame.truth or ()
    tagged = []
    for message in messages:
        if any(_overlap(message.event.box, t) >= MIN_OVERLAP for t in truth):
            event = message.event.model_copy(update={"exercise": True})
            message = EventMessage(event=event, snapshot_jpeg=message.snapshot_jpeg)
        tagged.append(message)
    return tagged
