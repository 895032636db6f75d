"""Exercise figures at an edge camera: the real analytics over a clip with injected figures drawn in.

:func:`tag_exercise` marks the events the exercise caused: an event whose box meets a drawn
figure's truth box carries ``exercise=True``, so it stays out of real lists and statistics all
the way to the hub; events about real people in the clip stay real. :func:`run_overlay_camera`
runs one camera like ``hwarang analyze`` does (flat out, frames stamped ``start_time + pts``) with
its source wrapped in an overlay drawing the plan's figure injects for that camera.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hwarang.domain import Camera, EventMessage
from hwarang.edge.camera_setup import build_analytics
from hwarang.edge.config import CameraConfig
from hwarang.edge.errors import EdgeError
from hwarang.edge.sources import build_source
from hwarang.edge.sources.file import FileSourceConfig
from hwarang.edge.sources.overlay import MIN_OVERLAP, OverlayFigure, OverlaySourceConfig, tag_exercise
from hwarang.exercise.injector import inject_figure
from hwarang.exercise.plan import ExercisePlan, PlannedInject
from hwarang.exercise.scenario import FigureInject

__all__ = [
    "MIN_OVERLAP",
    "OverlayRun",
    "figure_injects",
    "overlay_config",
    "run_overlay_camera",
    "tag_exercise",
]


def figure_injects(plan: ExercisePlan, camera_id: str) -> list[PlannedInject]:
    """The plan's figure injects at one camera."""
    return [i for i in plan.injects if i.camera_id == camera_id and isinstance(i.action, FigureInject)]


def overlay_config(
    base: FileSourceConfig, plan: ExercisePlan, camera_id: str, stream_start: datetime
) -> OverlaySourceConfig:
    """An overlay source over ``base`` drawing the plan's figure injects at ``camera_id``."""
    figures: list[OverlayFigure] = [inject_figure(i, stream_start) for i in figure_injects(plan, camera_id)]
    return OverlaySourceConfig(type="overlay", base=base, figures=figures)


@dataclass(frozen=True, slots=True)
class OverlayRun:
    """What a run over a clip with exercise figures produced."""

    frames: int
    events: int
    exercise_events: int


def run_overlay_camera(
    camera: Camera,
    config: CameraConfig,
    on_event: Callable[[EventMessage], None],
    *,
    plan: ExercisePlan,
    start_time: datetime,
) -> OverlayRun:
    """Analyse ``config``'s file source with the plan's figures drawn in, flat out; report each event.

    Frames are stamped ``start_time + pts``; a figure injected at ``t`` appears at pts ``t - start_time``.
    """
    source_config = config.source
    if not isinstance(source_config, FileSourceConfig):
        raise EdgeError(
            f"camera {camera.id}: exercise figures need a file source, not {source_config.type!r}"
        )
    base = source_config.model_copy(update={"realtime": False, "start_time": start_time, "loop": False})
    source = build_source(overlay_config(base, plan, camera.id, start_time), camera_id=camera.id)
    frames = events = tagged = 0
    analytics = None
    try:
        for frame in source.frames():
            if analytics is None:
                analytics = build_analytics(camera, config, source.fps, (frame.width, frame.height))
            for message in tag_exercise(frame, analytics.process(frame)):
                on_event(message)
                events += 1
                tagged += message.event.exercise
            frames += 1
    finally:
        source.close()
    return OverlayRun(frames, events, tagged)
