"""A synthetic camera: a perimeter scene with figures crossing the fence, and their ground truth."""

import itertools
import logging
import math
import time
from collections.abc import Iterator
from typing import Literal

import numpy as np
from pydantic import Field

from hwarang.domain import ObjectClass
from hwarang.edge.frame import Frame
from hwarang.edge.sources.base import BaseSource, FrameSource, Pacer, SourcePluginConfig
from hwarang.edge.sources.scene import Figure, Point, SyntheticScene, Waypoint
from hwarang.edge.sources.stamp import draw_stamp

__all__ = [
    "WAVE_PERIOD_S",
    "Figure",
    "SyntheticScene",
    "SyntheticSource",
    "SyntheticSourceConfig",
    "Waypoint",
    "add_default_wave",
]

logger = logging.getLogger(__name__)

WAVE_PERIOD_S = 30.0
"""A new wave of default figures starts every this many seconds of scene time."""

_WAVE_LEAD_S = 1.0


class SyntheticSourceConfig(SourcePluginConfig):
    """A rendered perimeter scene: figures cross a fence into a restricted area; frames carry truth."""

    type: Literal["synthetic"] = Field(default="synthetic", description="Source plugin: a synthetic scene.")
    width: int = Field(default=960, ge=64, le=4096, description="Image width in pixels.")
    height: int = Field(default=540, ge=64, le=4096, description="Image height in pixels.")
    fps: float = Field(default=10.0, gt=0.0, le=120.0, description="Frames per second of scene time.")
    seed: int = Field(default=0, ge=0, description="Seed of the ground texture and the figures' paths.")
    figures: int = Field(
        default=3,
        ge=0,
        le=32,
        description="Figures per wave: all but one cross the fence; with two or more, one walks beside it.",
    )
    duration_s: float | None = Field(
        default=None, gt=0.0, description="Scene length in seconds; None runs forever with new waves."
    )
    realtime: bool = Field(
        default=True, description="Pace frames at ``fps``; else render as fast as possible."
    )
    speed: float = Field(default=1.0, gt=0.0, description="Pacing multiplier: 2.0 plays twice as fast.")
    stamp: bool = Field(
        default=False,
        description="Draw the frame counter and capture time in the top-left corner (latency bench).",
    )

    def build(self, *, camera_id: str) -> FrameSource:
        """A ``SyntheticSource`` for this config."""
        return SyntheticSource(self, camera_id=camera_id)


def _person_size(scene: SyntheticScene) -> tuple[float, float]:
    return (0.08 * scene.height, 0.22 * scene.height)


def _vehicle_size(scene: SyntheticScene) -> tuple[float, float]:
    return (0.36 * scene.height, 0.16 * scene.height)


def _crossing_path(
    scene: SyntheticScene, rng: np.random.Generator, start_s: float, object_class: ObjectClass
) -> list[tuple[float, float, float]]:
    """From below the frame, across the fence, a pause inside the restricted area, out at the side."""
    w, h = scene.width, scene.height
    walk = 2.2 if object_class == ObjectClass.VEHICLE else 1.0
    x_start = float(rng.uniform(0.2, 0.8) * w)
    x_cross = float(np.clip(x_start + rng.uniform(-0.15, 0.15) * w, 0.1 * w, 0.9 * w))
    top = scene.restricted_polygon[2][1]
    y_inside = float(rng.uniform(top + 0.12 * h, scene.fence_y(x_cross) - 0.1 * h))
    x_exit = -0.3 * w if x_cross < w / 2 else 1.3 * w
    points = [(x_start, h + 0.02 * h), (x_cross, scene.fence_y(x_cross) + 0.08 * h), (x_cross, y_inside)]
    path = [(start_s, *points[0])]
    t = start_s
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        t += math.hypot(bx - ax, by - ay) / (0.07 * h * walk)
        path.append((t, bx, by))
    t += float(rng.uniform(2.0, 5.0))
    path.append((t, x_cross, y_inside))
    t += abs(x_exit - x_cross) / (0.09 * h * walk)
    path.append((t, x_exit, y_inside))
    return path


def _parallel_path(
    scene: SyntheticScene, rng: np.random.Generator, start_s: float
) -> list[tuple[float, float, float]]:
    """Along the fence on the public side, never crossing it."""
    w, h = scene.width, scene.height
    gap = float(rng.uniform(0.12, 0.2) * h)
    leftwards = bool(rng.integers(0, 2))
    xs = (1.1 * w, -0.1 * w) if leftwards else (-0.1 * w, 1.1 * w)
    duration = 1.2 * w / (0.08 * h)
    return [
        (start_s, xs[0], scene.fence_y(xs[0]) + gap),
        (start_s + duration, xs[1], scene.fence_y(xs[1]) + gap),
    ]


def add_default_wave(scene: SyntheticScene, *, seed: int, wave: int, figures: int) -> list[int]:
    """Add wave ``wave`` of the default scenario (starting at ``wave * WAVE_PERIOD_S``); returns ids.

    All figures but one cross the fence into the restricted area (every second crosser is a vehicle);
    with ``figures >= 2`` the last one walks parallel to the fence and never crosses it.
    """
    rng = np.random.default_rng([seed, wave])
    start = wave * WAVE_PERIOD_S
    crossers = figures - 1 if figures >= 2 else figures
    ids = []
    for i in range(crossers):
        object_class = ObjectClass.VEHICLE if i % 2 == 1 else ObjectClass.PERSON
        size = _vehicle_size(scene) if object_class == ObjectClass.VEHICLE else _person_size(scene)
        offset = i * 3.5 + float(rng.uniform(0.0, 1.5))
        ids.append(
            scene.add_figure(object_class, _crossing_path(scene, rng, start + offset, object_class), size)
        )
    if figures >= 2:
        path = _parallel_path(scene, rng, start + float(rng.uniform(0.0, 2.0)))
        ids.append(scene.add_figure(ObjectClass.PERSON, path, _person_size(scene)))
    return ids


class SyntheticSource(BaseSource):
    """Renders a ``SyntheticScene`` frame by frame; each frame carries the figures' truth boxes.

    Exercises may inject scripted figures with ``source.scene.add_figure`` using scene time (``pts_s``).
    """

    def __init__(self, config: SyntheticSourceConfig, *, camera_id: str) -> None:
        super().__init__(camera_id)
        self._config = config
        self._scene = SyntheticScene(config.width, config.height, seed=config.seed)
        self._next_wave = 0
        self._next_index = 0

    @property
    def config(self) -> SyntheticSourceConfig:
        """The config this source was built from."""
        return self._config

    @property
    def scene(self) -> SyntheticScene:
        """The scene being rendered (add scripted figures here)."""
        return self._scene

    @property
    def fence_line(self) -> tuple[Point, Point]:
        """The fence's ground line in pixels (use it for a tripwire rule)."""
        return self._scene.fence_line

    @property
    def restricted_polygon(self) -> tuple[Point, ...]:
        """The restricted area in pixels (use it for a zone rule)."""
        return self._scene.restricted_polygon

    @property
    def fps(self) -> float:
        """Frames per second of scene time."""
        return self._config.fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the rendered frames."""
        return (self._config.width, self._config.height)

    def open(self) -> None:
        """Nothing to open; present for the ``FrameSource`` protocol."""

    def close(self) -> None:
        """Stop the scene."""
        self.stop()

    def frames(self) -> Iterator[Frame]:
        """Render frames until ``duration_s`` of scene time (forever when None) or ``stop()``."""
        cfg = self._config
        pacer = Pacer(self._stop_event, speed=cfg.speed, realtime=cfg.realtime)
        while not self.stopped:
            index = self._next_index
            pts_s = index / cfg.fps
            if cfg.duration_s is not None and pts_s >= cfg.duration_s:
                return
            self._spawn_waves(pts_s)
            image, truth = self._scene.render(pts_s)
            self._stats.decoded()
            if not pacer.wait(pts_s):
                return
            self._next_index += 1
            if cfg.stamp:
                draw_stamp(image, index, time.time_ns() // 1_000_000)
            yield Frame(image=image, index=index, pts_s=pts_s, wall_time=pacer.wall_time(pts_s), truth=truth)
            self._stats.delivered()

    def _spawn_waves(self, pts_s: float) -> None:
        if self._config.figures == 0:
            return
        while self._next_wave * WAVE_PERIOD_S <= pts_s + _WAVE_LEAD_S:
            ids = add_default_wave(
                self._scene, seed=self._config.seed, wave=self._next_wave, figures=self._config.figures
            )
            logger.debug("camera %s: wave %d adds figures %s", self.camera_id, self._next_wave, ids)
            self._next_wave += 1
        self._scene.prune(pts_s)
