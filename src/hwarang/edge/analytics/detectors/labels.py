"""Model labels and their mapping to Hwarang classes.

A detector model numbers its classes; ``labels`` names them (COCO's 80 by default) and a class map
turns names into ``ObjectClass`` values. Labels the map does not name are dropped or reported as
``unknown``, as the detector config says.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from hwarang.domain import ObjectClass
from hwarang.edge.analytics.classes import CLASS_INDEX
from hwarang.edge.errors import AnalyticsError

COCO80_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip
"""The 80 COCO detection classes in the order YOLOX, YOLOv8/11 and NanoDet number them."""

DEFAULT_CLASS_MAP: Mapping[str, ObjectClass] = {
    "person": ObjectClass.PERSON,
    "pedestrian": ObjectClass.PERSON,
    "car": ObjectClass.VEHICLE,
    "bus": ObjectClass.VEHICLE,
    "truck": ObjectClass.VEHICLE,
    "train": ObjectClass.VEHICLE,
    "vehicle": ObjectClass.VEHICLE,
    "bicycle": ObjectClass.TWO_WHEELER,
    "motorcycle": ObjectClass.TWO_WHEELER,
    "bike": ObjectClass.TWO_WHEELER,
    "boat": ObjectClass.BOAT,
    "airplane": ObjectClass.AIRCRAFT,
    "drone": ObjectClass.AIRCRAFT,
    "bird": ObjectClass.ANIMAL,
    "cat": ObjectClass.ANIMAL,
    "dog": ObjectClass.ANIMAL,
    "horse": ObjectClass.ANIMAL,
    "sheep": ObjectClass.ANIMAL,
    "cow": ObjectClass.ANIMAL,
    "elephant": ObjectClass.ANIMAL,
    "bear": ObjectClass.ANIMAL,
    "zebra": ObjectClass.ANIMAL,
    "giraffe": ObjectClass.ANIMAL,
}
"""Label name -> Hwarang class for COCO and Open Model Zoo names; other COCO labels (cups, chairs) drop."""

DROPPED = -1
"""Entry of a label lookup table for a label that yields no detection."""


def label_lookup(
    labels: Sequence[str], class_map: Mapping[str, ObjectClass], *, unmapped_unknown: bool
) -> npt.NDArray[np.int_]:
    """Table from model class id to Hwarang ``class_id`` (``classes.CLASS_INDEX``) or ``DROPPED``.

    Raises ``AnalyticsError`` when the class map names a label the model does not have (a typo would
    otherwise silently drop every detection of that class).
    """
    known = set(labels)
    strangers = sorted(name for name in class_map if name not in known and name not in DEFAULT_CLASS_MAP)
    if strangers:
        raise AnalyticsError(
            f"class map names labels the model does not have: {strangers}; model labels: {list(labels)}"
        )
    fallback = CLASS_INDEX[ObjectClass.UNKNOWN] if unmapped_unknown else DROPPED
    return np.array(
        [CLASS_INDEX[class_map[name]] if name in class_map else fallback for name in labels], dtype=int
    )
