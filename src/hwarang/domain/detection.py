"""Detections and tracks as they cross boundaries (the edge works on columnar arrays inside)."""

from pydantic import Field, model_validator

from hwarang.domain.base import DomainModel, ValueModel
from hwarang.domain.enums import ObjectClass


class BoundingBox(ValueModel):
    """A pixel box, (x1, y1) top-left and (x2, y2) bottom-right."""

    x1: float
    y1: float
    x2: float
    y2: float

    @model_validator(mode="after")
    def _check_order(self) -> "BoundingBox":
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError(f"box corners out of order: ({self.x1},{self.y1})-({self.x2},{self.y2})")
        return self

    @property
    def bottom_center(self) -> tuple[float, float]:
        """The ground-contact point: middle of the bottom edge."""
        return ((self.x1 + self.x2) / 2.0, self.y2)


class Detection(DomainModel):
    """One object seen in one frame."""

    box: BoundingBox
    object_class: ObjectClass
    confidence: float = Field(ge=0.0, le=1.0)
    track_id: int | None = None


class Track(DomainModel):
    """A tracked object's identity and its recent path on one camera."""

    track_id: int
    camera_id: str
    object_class: ObjectClass
    path: tuple[tuple[float, float], ...] = Field(
        default=(), description="Bottom-centre points, oldest first."
    )
