"""SyntheticSource: the default scenario crosses the fence; frames carry truth; pacing and stop."""

import threading
import time

import cv2
import numpy as np
import pytest

from hwarang.domain import ObjectClass
from hwarang.edge.frame import Frame
from hwarang.edge.sources import SyntheticSource, SyntheticSourceConfig
from hwarang.edge.sources.synthetic import WAVE_PERIOD_S


def _source(**kwargs: object) -> SyntheticSource:
    config = SyntheticSourceConfig.model_validate({"realtime": False, **kwargs})
    return SyntheticSource(config, camera_id="cam-syn")


def _frames(**kwargs: object) -> list[Frame]:
    return list(_source(**kwargs).frames())


def test_same_seed_same_frames_and_truth() -> None:
    a = _frames(seed=3, duration_s=6.0, width=320, height=180)
    b = _frames(seed=3, duration_s=6.0, width=320, height=180)
    assert len(a) == len(b) == 60
    assert all(np.array_equal(x.image, y.image) and x.truth == y.truth for x, y in zip(a, b, strict=True))
    assert any(f.truth for f in a)


def test_different_seed_differs() -> None:
    a = _frames(seed=3, duration_s=6.0, width=320, height=180)
    b = _frames(seed=4, duration_s=6.0, width=320, height=180)
    assert not np.array_equal(a[0].image, b[0].image)
    assert [f.truth for f in a] != [f.truth for f in b]


def test_truth_moves_and_stays_inside_the_frame() -> None:
    source = _source(duration_s=20.0)
    width, height = source.size
    boxes: dict[int, list[tuple[float, float, float, float]]] = {}
    for frame in source.frames():
        assert frame.image.shape == (height, width, 3)
        assert frame.truth is not None
        for box in frame.truth:
            x1, y1, x2, y2 = box.xyxy
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
            boxes.setdefault(box.object_id, []).append(box.xyxy)
    assert len(boxes) >= 3
    assert all(len(set(track)) > 10 for track in boxes.values())


def _side(fence: tuple[tuple[float, float], tuple[float, float]], x: float, y: float) -> float:
    (x0, y0), (x1, y1) = fence
    return (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)


def test_default_scenario_crosses_the_fence_and_one_figure_does_not() -> None:
    source = _source(duration_s=WAVE_PERIOD_S)
    fence, polygon = source.fence_line, np.array(source.restricted_polygon, np.float32)
    sides: dict[int, set[bool]] = {}
    inside: dict[int, bool] = {}
    classes: dict[int, ObjectClass] = {}
    for frame in source.frames():
        for box in frame.truth or ():
            x, y = (box.xyxy[0] + box.xyxy[2]) / 2.0, box.xyxy[3]
            sides.setdefault(box.object_id, set()).add(_side(fence, x, y) < 0)
            entered = cv2.pointPolygonTest(polygon, (x, y), False) > 0
            inside[box.object_id] = inside.get(box.object_id, False) or entered
            classes[box.object_id] = box.object_class
    crossers = {k for k, s in sides.items() if s == {True, False} and inside[k]}
    stayers = {k for k, s in sides.items() if len(s) == 1 and not inside[k]}
    assert len(crossers) == 2 and len(stayers) == 1
    assert {classes[k] for k in crossers} == {ObjectClass.PERSON, ObjectClass.VEHICLE}


def test_figures_respawn_when_running_forever() -> None:
    source = _source(width=320, height=180)
    ids: set[int] = set()
    for frame in source.frames():
        ids.update(box.object_id for box in frame.truth or ())
        if frame.pts_s >= WAVE_PERIOD_S + 12.0:
            break
    assert len(ids) > 3
    assert len(source.scene.figures) <= 6


def test_no_figures_gives_an_empty_scene() -> None:
    frames = _frames(figures=0, duration_s=1.0, width=160, height=120)
    assert len(frames) == 10 and all(f.truth == () for f in frames)


def test_scripted_figure_is_rendered() -> None:
    source = _source(figures=0, duration_s=2.0, width=320, height=180)
    object_id = source.scene.add_figure(
        ObjectClass.PERSON, [(0.0, 100.0, 170.0), (2.0, 200.0, 100.0)], (30, 60)
    )
    frames = list(source.frames())
    assert all(f.truth and f.truth[0].object_id == object_id for f in frames)


def test_realtime_pacing_is_honoured() -> None:
    source = _source(realtime=True, fps=20.0, speed=2.0, width=160, height=120, duration_s=0.55)
    start = time.monotonic()
    frames = list(source.frames())
    elapsed = time.monotonic() - start
    assert len(frames) == 11
    assert 0.22 <= elapsed <= 0.75
    assert (frames[-1].wall_time - frames[0].wall_time).total_seconds() == pytest.approx(0.25)
    assert source.stats.frames_delivered == 11


def test_stop_ends_a_paced_scene_promptly() -> None:
    source = _source(realtime=True, fps=1.0, speed=0.1, width=160, height=120)
    threading.Timer(0.2, source.stop).start()
    start = time.monotonic()
    frames = list(source.frames())
    assert len(frames) == 1
    assert time.monotonic() - start < 0.6
