"""Scripted detections for analytics tests: boxes placed by their ground-contact point."""

from collections.abc import Callable, Mapping

import numpy as np
import pytest
import supervision as sv

from hwarang.domain import ObjectClass
from hwarang.edge.analytics.classes import CLASS_INDEX

TrackedAt = Callable[..., sv.Detections]


def tracked_at(
    anchors: Mapping[int, tuple[float, float]],
    classes: Mapping[int, ObjectClass] | None = None,
    *,
    width: float = 20.0,
    height: float = 40.0,
    confidence: float = 0.9,
) -> sv.Detections:
    """Tracked detections whose box bottom-centre is ``anchors[tracker_id]``; class person unless given."""
    ids = list(anchors)
    xyxy = np.array(
        [[x - width / 2, y - height, x + width / 2, y] for x, y in (anchors[i] for i in ids)],
        dtype=np.float32,
    ).reshape(-1, 4)
    class_id = np.array([CLASS_INDEX[(classes or {}).get(i, ObjectClass.PERSON)] for i in ids], dtype=int)
    return sv.Detections(
        xyxy=xyxy,
        confidence=np.full(len(ids), confidence, dtype=np.float32),
        class_id=class_id,
        tracker_id=np.array(ids, dtype=int),
    )


@pytest.fixture
def at() -> TrackedAt:
    """Factory of scripted tracked detections (see ``tracked_at``)."""
    return tracked_at
