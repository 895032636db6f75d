"""SyntheticScene: deterministic rendering whose truth boxes are exactly the drawn figures."""

import numpy as np
import pytest

from hwarang.domain import ObjectClass
from hwarang.edge.sources import SyntheticScene

W, H = 320, 240


def _drawn_extents(
    scene_with: SyntheticScene, scene_without: SyntheticScene, t_s: float
) -> tuple[float, ...]:
    image_with, _ = scene_with.render(t_s)
    image_without, _ = scene_without.render(t_s)
    diff = np.any(image_with != image_without, axis=2)
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    return (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))


@pytest.mark.parametrize("object_class", [ObjectClass.PERSON, ObjectClass.VEHICLE])
def test_truth_box_is_the_drawn_extent(object_class: ObjectClass) -> None:
    scene, empty = SyntheticScene(W, H, seed=5), SyntheticScene(W, H, seed=5)
    object_id = scene.add_figure(object_class, [(0.0, 60.0, 200.0), (10.0, 260.0, 120.0)], (50.0, 70.0))
    for t_s in (0.0, 3.3, 7.1):
        _, truth = scene.render(t_s)
        assert [box.object_id for box in truth] == [object_id]
        assert truth[0].object_class == object_class
        assert truth[0].xyxy == _drawn_extents(scene, empty, t_s)


def test_figure_is_clipped_at_the_edge_and_absent_outside() -> None:
    scene, empty = SyntheticScene(W, H, seed=1), SyntheticScene(W, H, seed=1)
    scene.add_figure(ObjectClass.PERSON, [(0.0, 5.0, 150.0), (4.0, -100.0, 150.0)], (40.0, 90.0))
    _, truth = scene.render(0.0)
    x1, _y1, x2, y2 = truth[0].xyxy
    assert x1 == 0.0 and 0 < x2 < 30 and y2 == 150.0
    assert truth[0].xyxy == _drawn_extents(scene, empty, 0.0)
    image, truth = scene.render(4.0)
    assert truth == ()
    assert np.array_equal(image, empty.render(4.0)[0])


def test_figures_appear_only_during_their_path() -> None:
    scene = SyntheticScene(W, H)
    scene.add_figure(ObjectClass.PERSON, [(2.0, 100.0, 200.0), (4.0, 120.0, 200.0)], (30.0, 60.0))
    assert scene.render(1.9)[1] == ()
    assert len(scene.render(3.0)[1]) == 1
    assert scene.render(4.1)[1] == ()
    assert scene.prune(4.1) == 1
    assert scene.figures == ()


def test_rendering_is_deterministic_and_seeded() -> None:
    path = [(0.0, 50.0, 230.0), (5.0, 250.0, 100.0)]
    scenes = [SyntheticScene(W, H, seed=s) for s in (7, 7, 8)]
    for scene in scenes:
        scene.add_figure(ObjectClass.VEHICLE, path, (80.0, 40.0))
    a, b, c = (scene.render(2.5) for scene in scenes)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


def test_noise_and_lighting_change_over_time() -> None:
    scene = SyntheticScene(W, H, seed=2)
    first, later = scene.render(0.0)[0], scene.render(20.0)[0]
    assert not np.array_equal(first, scene.render(0.1)[0])
    assert abs(float(first.mean()) - float(later.mean())) > 1.0


def test_fence_lies_under_the_restricted_area() -> None:
    scene = SyntheticScene(W, H)
    (x0, y0), (x1, y1) = scene.fence_line
    assert (x0, x1) == (0.0, float(W))
    assert scene.restricted_polygon[:2] == scene.fence_line
    assert all(y <= min(y0, y1) for _, y in scene.restricted_polygon[2:])
    assert scene.fence_y(W / 2) == pytest.approx((y0 + y1) / 2)


@pytest.mark.parametrize(
    ("path", "size", "message"),
    [
        ([], (10.0, 10.0), "at least one"),
        ([(1.0, 0.0, 0.0), (0.5, 1.0, 1.0)], (10.0, 10.0), "must not decrease"),
        ([(0.0, 0.0, 0.0)], (0.0, 10.0), "positive"),
    ],
)
def test_add_figure_rejects_bad_input(
    path: list[tuple[float, float, float]], size: tuple[float, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticScene(W, H).add_figure(ObjectClass.PERSON, path, size)
