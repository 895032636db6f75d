"""A synthetic perimeter scene: textured ground, a fence, a restricted area and moving figures.

Rendering is pure and deterministic: the same seed, figures and time give the same image and truth.
"""

import itertools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from hwarang.domain import ObjectClass
from hwarang.edge.frame import TruthBox

Image = npt.NDArray[np.uint8]
Point = tuple[float, float]

_NOISE_BANK = 6
_LIGHT_PERIOD_S = 90.0
_LIGHT_AMPLITUDE = 0.12


@dataclass(frozen=True, slots=True)
class Waypoint:
    """Where a figure's bottom-centre is at a scene time."""

    t_s: float
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Figure:
    """A moving object: a path of waypoints and its (width, height) at the bottom of the image."""

    object_id: int
    object_class: ObjectClass
    path: tuple[Waypoint, ...]
    size: tuple[float, float]
    shade: int

    @property
    def start_s(self) -> float:
        """When the figure appears."""
        return self.path[0].t_s

    @property
    def end_s(self) -> float:
        """When the figure leaves the scene."""
        return self.path[-1].t_s

    def position(self, t_s: float) -> Point | None:
        """Bottom-centre at ``t_s`` by linear interpolation; None outside the path's time span."""
        if t_s < self.start_s or t_s > self.end_s:
            return None
        for a, b in itertools.pairwise(self.path):
            if a.t_s <= t_s <= b.t_s:
                span = b.t_s - a.t_s
                k = (t_s - a.t_s) / span if span > 0 else 1.0
                return (a.x + k * (b.x - a.x), a.y + k * (b.y - a.y))
        return (self.path[-1].x, self.path[-1].y)


class SyntheticScene:
    """A fixed camera over a perimeter fence with a restricted area behind it.

    Figures are drawn bottom-centre anchored and shrink with distance (``depth_scale`` is the scale at
    the top row; sizes are given for the bottom row). ``add_figure`` is thread-safe, so an exercise
    can inject figures while a source renders.
    """

    def __init__(
        self, width: int = 960, height: int = 540, *, seed: int = 0, depth_scale: float = 0.45
    ) -> None:
        if width < 64 or height < 64:
            raise ValueError(f"scene must be at least 64x64 pixels, got {width}x{height}")
        if not 0.0 < depth_scale <= 1.0:
            raise ValueError(f"depth_scale must be in (0, 1], got {depth_scale}")
        self._width = width
        self._height = height
        self._seed = seed
        self._depth_scale = depth_scale
        self._fence: tuple[Point, Point] = ((0.0, 0.56 * height), (float(width), 0.46 * height))
        top = 0.12 * height
        self._restricted: tuple[Point, ...] = (
            self._fence[0],
            self._fence[1],
            (float(width), top),
            (0.0, top),
        )
        self._lock = threading.Lock()
        self._figures: dict[int, Figure] = {}
        self._ids = itertools.count(1)
        rng = np.random.default_rng(seed)
        self._light_phase = float(rng.uniform(0.0, 2.0 * math.pi))
        self._background = self._draw_background(rng)
        self._noise = [self._noise_pair(rng) for _ in range(_NOISE_BANK)]

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return self._width

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return self._height

    @property
    def seed(self) -> int:
        """The seed of the ground texture, noise and lighting."""
        return self._seed

    @property
    def fence_line(self) -> tuple[Point, Point]:
        """The fence's ground line, left end to right end, in pixels."""
        return self._fence

    @property
    def restricted_polygon(self) -> tuple[Point, ...]:
        """The restricted area behind the fence, in pixels."""
        return self._restricted

    @property
    def figures(self) -> tuple[Figure, ...]:
        """The figures currently in the scene, by id."""
        with self._lock:
            return tuple(self._figures[k] for k in sorted(self._figures))

    def fence_y(self, x: float) -> float:
        """The fence's ground line height at column ``x``."""
        (x0, y0), (x1, y1) = self._fence
        return y0 + (x - x0) * (y1 - y0) / (x1 - x0)

    def scale_at(self, y: float) -> float:
        """Perspective scale of a figure standing at row ``y``."""
        k = min(max(y / self._height, 0.0), 1.0)
        return self._depth_scale + (1.0 - self._depth_scale) * k

    def add_figure(
        self, object_class: ObjectClass, path: Sequence[tuple[float, float, float]], size: tuple[float, float]
    ) -> int:
        """Add a figure following ``(t_s, x, y)`` waypoints with ``(width, height)``; returns its id."""
        if not path:
            raise ValueError("a figure needs at least one (t_s, x, y) waypoint")
        points = tuple(Waypoint(float(t), float(x), float(y)) for t, x, y in path)
        if any(b.t_s < a.t_s for a, b in itertools.pairwise(points)):
            raise ValueError(f"waypoint times must not decrease: {[p.t_s for p in points]}")
        if size[0] <= 0 or size[1] <= 0:
            raise ValueError(f"figure size must be positive, got {size}")
        with self._lock:
            object_id = next(self._ids)
            shade = 28 + (object_id * 37 + self._seed) % 40
            self._figures[object_id] = Figure(object_id, object_class, points, (size[0], size[1]), shade)
        return object_id

    def remove_figure(self, object_id: int) -> None:
        """Remove a figure (no error when it is already gone)."""
        with self._lock:
            self._figures.pop(object_id, None)

    def prune(self, t_s: float) -> int:
        """Remove figures whose path ended before ``t_s``; returns how many were removed."""
        with self._lock:
            done = [k for k, f in self._figures.items() if f.end_s < t_s]
            for k in done:
                del self._figures[k]
        return len(done)

    def render(self, t_s: float) -> tuple[Image, tuple[TruthBox, ...]]:
        """The BGR image at scene time ``t_s`` and the truth boxes of the figures drawn in it."""
        image = self._lit_background(t_s)
        placed = []
        for figure in self.figures:
            anchor = figure.position(t_s)
            if anchor is not None:
                placed.append((anchor[1], figure, anchor))
        truth: list[TruthBox] = []
        for _, figure, anchor in sorted(placed, key=lambda item: (item[0], item[1].object_id)):
            box = self._draw_figure(image, figure, anchor)
            if box is not None:
                truth.append(TruthBox(figure.object_id, figure.object_class, box))
        self._add_noise(image, t_s)
        return image, tuple(truth)

    def _lit_background(self, t_s: float) -> Image:
        gain = 1.0 + _LIGHT_AMPLITUDE * math.sin(2.0 * math.pi * t_s / _LIGHT_PERIOD_S + self._light_phase)
        return np.asarray(cv2.convertScaleAbs(self._background, alpha=gain), dtype=np.uint8)

    def _add_noise(self, image: Image, t_s: float) -> None:
        millis = round(t_s * 1000.0)
        plus, minus = self._noise[((millis * 2654435761) >> 16) % _NOISE_BANK]
        cv2.add(image, plus, dst=image)
        cv2.subtract(image, minus, dst=image)

    def _noise_pair(self, rng: np.random.Generator) -> tuple[Image, Image]:
        noise = rng.normal(0.0, 3.0, (self._height, self._width, 1))
        noise = np.repeat(noise, 3, axis=2)
        plus = np.clip(noise, 0, 255).astype(np.uint8)
        minus = np.clip(-noise, 0, 255).astype(np.uint8)
        return plus, minus

    def _texture(self, rng: np.random.Generator, cells: int, amplitude: float) -> npt.NDArray[np.float32]:
        small = rng.normal(0.0, amplitude, (cells * self._height // self._width + 2, cells + 2)).astype(
            np.float32
        )
        resized = cv2.resize(small, (self._width, self._height), interpolation=cv2.INTER_CUBIC)
        return np.asarray(resized, dtype=np.float32)

    def _draw_background(self, rng: np.random.Generator) -> Image:
        w, h = self._width, self._height
        grain = rng.normal(0.0, 6.0, (h, w)).astype(np.float32)
        texture = self._texture(rng, 12, 14.0) + self._texture(rng, 48, 6.0) + grain
        ground = np.empty((h, w, 3), np.float32)
        for channel, base in enumerate((88.0, 122.0, 108.0)):
            ground[:, :, channel] = base + texture
        restricted = np.array(self._restricted, np.int32)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [restricted], 255)
        gravel = np.stack([150.0 + texture, 148.0 + texture, 140.0 + texture], axis=2)
        ground = np.where(mask[:, :, None] > 0, gravel, ground)
        road_y = 0.78 * h
        ground[int(road_y - 0.05 * h) : int(road_y + 0.05 * h)] *= 0.8
        image = np.clip(ground, 0, 255).astype(np.uint8)
        cv2.polylines(image, [restricted], True, (60, 60, 170), 2, cv2.LINE_AA)
        self._draw_fence(image)
        return image

    def _draw_fence(self, image: Image) -> None:
        (x0, _), (x1, _) = self._fence
        step = max(self._width // 24, 8)
        tops: list[tuple[int, int]] = []
        for x in range(int(x0), int(x1) + 1, step):
            base_y = self.fence_y(x)
            post_h = 0.12 * self._height * self.scale_at(base_y)
            top = (x, int(base_y - post_h))
            cv2.line(image, (x, int(base_y)), top, (70, 70, 72), 3, cv2.LINE_AA)
            tops.append(top)
        for frac in (0.0, 0.35, 0.7):
            wire = [(x, int(y + frac * (self.fence_y(x) - y))) for x, y in tops]
            cv2.polylines(image, [np.array(wire, np.int32)], False, (95, 95, 100), 1, cv2.LINE_AA)

    def _draw_figure(
        self, image: Image, figure: Figure, anchor: Point
    ) -> tuple[float, float, float, float] | None:
        """Draw one figure; return its drawn extents clipped to the image, or None when off-frame."""
        scale = self.scale_at(anchor[1])
        fw = max(round(figure.size[0] * scale), 4)
        fh = max(round(figure.size[1] * scale), 6)
        x1 = round(anchor[0] - fw / 2.0)
        y1 = round(anchor[1]) - fh
        cx1, cy1 = max(x1, 0), max(y1, 0)
        cx2, cy2 = min(x1 + fw, self._width), min(y1 + fh, self._height)
        if cx2 <= cx1 or cy2 <= cy1:
            return None
        patch, mask = _figure_sprite(figure, fw, fh)
        sx, sy = cx1 - x1, cy1 - y1
        sub_mask = mask[sy : sy + cy2 - cy1, sx : sx + cx2 - cx1] > 0
        target = image[cy1:cy2, cx1:cx2]
        target[sub_mask] = patch[sy : sy + cy2 - cy1, sx : sx + cx2 - cx1][sub_mask]
        rows = np.flatnonzero(sub_mask.any(axis=1))
        cols = np.flatnonzero(sub_mask.any(axis=0))
        if rows.size == 0:
            return None
        return (
            float(cx1 + cols[0]),
            float(cy1 + rows[0]),
            float(cx1 + cols[-1] + 1),
            float(cy1 + rows[-1] + 1),
        )


def _figure_sprite(figure: Figure, fw: int, fh: int) -> tuple[Image, Image]:
    """The figure's pixels and mask in a (fh, fw) patch; the mask touches all four patch edges."""
    patch = np.zeros((fh, fw, 3), np.uint8)
    mask = np.zeros((fh, fw), np.uint8)
    shade = figure.shade
    if figure.object_class == ObjectClass.VEHICLE:
        cabin_h = max(round(fh * 0.45), 2)
        inset = round(fw * 0.18)
        cv2.rectangle(mask, (inset, 0), (fw - 1 - inset, cabin_h), 255, -1)
        cv2.rectangle(mask, (0, round(fh * 0.38)), (fw - 1, fh - 1), 255, -1)
        patch[:] = (shade + 30, shade + 22, shade + 60)
        pad = max(round(fh * 0.08), 1)
        window = (150, 140, 120)
        mid = fw // 2
        cv2.rectangle(patch, (inset + pad, pad), (mid - pad // 2, cabin_h - pad), window, -1)
        cv2.rectangle(patch, (mid + pad // 2, pad), (fw - 1 - inset - pad, cabin_h - pad), window, -1)
        wheel_r = max(round(fh * 0.14), 1)
        for wx in (round(fw * 0.22), round(fw * 0.78)):
            cv2.circle(patch, (wx, fh - 1 - wheel_r), wheel_r, (20, 20, 20), -1)
    else:
        head_r = max(round(min(fw * 0.32, fh * 0.1)), 1)
        cv2.circle(mask, (fw // 2, head_r), head_r, 255, -1)
        body_top = 2 * head_r
        cv2.ellipse(
            mask,
            (fw // 2, body_top + (fh - body_top) // 3),
            (fw // 2, (fh - body_top) // 3),
            0,
            180,
            360,
            255,
            -1,
        )
        cv2.rectangle(mask, (0, body_top + (fh - body_top) // 3), (fw - 1, round(fh * 0.62)), 255, -1)
        leg_w = max(fw // 3, 1)
        cv2.rectangle(mask, (round(fw * 0.12), round(fh * 0.6)), (round(fw * 0.12) + leg_w, fh - 1), 255, -1)
        cv2.rectangle(mask, (fw - 1 - round(fw * 0.12) - leg_w, round(fh * 0.6)), (fw - 1, fh - 1), 255, -1)
        patch[:] = (shade, shade, shade + 8)
    return patch, mask
