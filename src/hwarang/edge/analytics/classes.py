"""Column encoding of Hwarang classes in ``supervision.Detections.class_id``."""

from hwarang.domain import ObjectClass

OBJECT_CLASSES: tuple[ObjectClass, ...] = tuple(ObjectClass)
"""``class_id`` i in a ``supervision.Detections`` means ``OBJECT_CLASSES[i]``."""

CLASS_INDEX: dict[ObjectClass, int] = {c: i for i, c in enumerate(OBJECT_CLASSES)}
