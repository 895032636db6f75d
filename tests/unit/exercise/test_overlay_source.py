"""The overlay source: synthetic figures drawn into a file's frames, with their truth boxes."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from hwarang.domain import ObjectClass
from hwarang.edge.sources import build_source
from hwarang.edge.sources.overlay import OverlayFigure, OverlaySource, OverlaySourceConfig, live_overlay
from tests.unit.exercise.exercise_support import write_grey_clip

T0 = datetime(2026, 8, 25, tzinfo=UTC)


def config(clip: Path, figures: list[dict[str, object]]) -> dict[str, object]:
    base = {"type": "file", "path": str(clip), "realtime": False, "start_time": T0.isoformat()}
    return {"type": "overlay", "base": base, "figures": figures}


def test_figures_are_drawn_along_their_path_with_truth(tmp_path: Path) -> None:
    clip = write_grey_clip(tmp_path / "grey.avi")
    figure = {"start_s": 1.0, "path": [[0, 50, 200], [1, 150, 200]], "size": [20, 60], "label": "inject-1"}
    source = build_source(config(clip, [figure]), camera_id="cam-x")
    assert isinstance(source, OverlaySource)
    frames = list(source.frames())
    assert len(frames) == 30 and source.size == (320, 240)
    before, at_start, halfway, after = frames[9], frames[10], frames[15], frames[25]
    assert before.truth is None and after.truth is None
    assert np.array_equal(before.image, after.image)  # nothing drawn outside the figure's time
    assert at_start.truth is not None and halfway.truth is not None
    (start_box,) = at_start.truth
    (half_box,) = halfway.truth
    assert start_box.object_class is ObjectClass.PERSON
    assert start_box.xyxy == (40.0, 140.0, 60.0, 200.0)  # 20x60 with its feet at (50, 200)
    assert half_box.xyxy[0] == pytest.approx(90.0, abs=1.0) and half_box.xyxy[3] == 200.0
    x1, y1, x2, y2 = (int(v) for v in half_box.xyxy)
    assert halfway.image[y1:y2, x1:x2].mean() < 120  # a dark figure on light grey
    assert halfway.wall_time == T0 + timedelta(seconds=1.5)
    assert source.label_of(start_box.object_id) == "inject-1"


def test_a_playing_source_is_live_and_takes_figures_from_other_threads(tmp_path: Path) -> None:
    clip = write_grey_clip(tmp_path / "grey.avi")
    source = build_source(config(clip, []), camera_id="cam-live")
    assert isinstance(source, OverlaySource)
    assert live_overlay("cam-live") is None
    frames = source.frames()
    first = next(frames)
    assert live_overlay("cam-live") is source and source.last_pts_s == first.pts_s
    adder = threading.Thread(
        target=source.add_figure,
        args=(
            OverlayFigure(object_class=ObjectClass.VEHICLE, start_s=1.0, path=[(0, 100, 150), (5, 100, 150)]),
        ),
    )
    adder.start()
    adder.join()
    rest = list(frames)
    assert live_overlay("cam-live") is None
    drawn = [f for f in rest if f.truth]
    assert len(drawn) == 20 and drawn[0].pts_s == pytest.approx(1.0)
    assert drawn[0].truth is not None and drawn[0].truth[0].object_class is ObjectClass.VEHICLE


def test_stop_ends_the_stream(tmp_path: Path) -> None:
    clip = write_grey_clip(tmp_path / "grey.avi")
    source = build_source(config(clip, []), camera_id="cam-stop")
    count = 0
    for _frame in source.frames():
        count += 1
        if count == 5:
            source.stop()
    assert count == 5
    source.close()


@pytest.mark.parametrize(
    ("figure", "message"),
    [
        ({"start_s": 0, "path": [[2, 1, 1], [1, 2, 2]]}, "must start at >= 0 and not decrease"),
        ({"start_s": 0, "path": []}, "at least 1 item"),
        ({"start_s": 0, "path": [[0, 1, 1]], "size": [2, 2]}, "at least 4x6 pixels"),
        ({"start_s": -1, "path": [[0, 1, 1]]}, "greater than or equal to 0"),
    ],
)
def test_bad_figures_are_refused(tmp_path: Path, figure: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OverlaySourceConfig.model_validate(config(tmp_path / "a.avi", [figure]))
