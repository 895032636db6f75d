"""Scenario texts and small clips for exercise tests."""

from datetime import UTC, datetime
from pathlib import Path

from hwarang.exercise.plan import ExercisePlan, plan_exercise
from hwarang.exercise.scenario import parse_scenario

START = datetime(2026, 8, 25, 0, 0, tzinfo=UTC)
"""The test scenario's start, and where the workflow clock of the ``hub`` fixture begins."""

SCENARIO = """\
name: test exercise
zones: [2, 4]
start: "2026-08-25T00:00:00+00:00"
duration: 2h
injects:
  - id: boat
    at: 5m
    title: boat landing
    threat: coastal_infiltration
    place: {sigungu: "28720"}
    inject: {type: event, object_class: boat, detect_delay_s: 20}
    expected:
      detect_within_s: 60
      acknowledge_within_s: 180
      resolve_within_s: 3600
      agencies:
        - {kind: military, share_within_s: 300, task_within_s: 600}
        - {code: cg-28, task_within_s: 600}
  - id: sejong-drone
    at: 30m
    title: drone
    threat: drone
    place: {sigungu: "36110"}
    inject: {type: event, count: 2}
    expected:
      agencies:
        - {kind: police, share_within_s: 600}
"""

FIGURE_SCENARIO = SCENARIO.replace(
    "{type: event, count: 2}", "{type: figure, path: [[0, 10, 20], [4, 50, 20]]}"
)
FIGURE_SCENARIO = FIGURE_SCENARIO.replace('{sigungu: "36110"}', '{sigungu: "36110", camera: cam-7}')
"""The test scenario with a figure inject at camera cam-7 instead of the drone events."""


def scenario_plan(text: str = SCENARIO) -> ExercisePlan:
    """The plan of a scenario text."""
    return plan_exercise(parse_scenario(text, "test.yaml"))


def write_grey_clip(path: Path, frames: int = 30, fps: int = 10, size: tuple[int, int] = (320, 240)) -> Path:
    """A short MPEG-4 clip of flat light grey frames (figures drawn on it stand out)."""
    import av
    import numpy as np

    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            image = np.full((height, width, 3), 200, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
