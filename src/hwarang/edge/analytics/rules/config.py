"""Rule configurations: one pydantic model per rule kind, selected by ``type``.

Coordinates are pixels of the full-resolution frame, (x, y) with y growing downwards. Every rule tests
the anchor point of a box: its bottom centre, where the object touches the ground.
"""

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, TypeAdapter, ValidationError, model_validator
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from hwarang.domain import ObjectClass
from hwarang.edge.errors import AnalyticsError

Point = tuple[FiniteFloat, FiniteFloat]
MIN_POLYGON_AREA_PX = 1.0
MIN_LINE_LENGTH_PX = 1.0


class _RuleConfigBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1, max_length=64, description="Rule name, unique per camera; appears in events."
    )
    classes: list[ObjectClass] | None = Field(
        default=None, description="Object classes the rule applies to; None means all classes."
    )
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Tracked detections below this confidence are ignored."
    )
    min_box_px: float = Field(
        default=0.0,
        ge=0.0,
        description="Tracked boxes whose width or height is below this (pixels) are ignored.",
    )


class _Reacquiring(BaseModel):
    """Settings of rules that keep per-track state across a track's loss and re-acquisition."""

    reacquire_s: float = Field(
        default=2.0,
        ge=0.0,
        description="Seconds after a track is lost during which a new track appearing near where it was "
        "lost continues it (no second alarm for the same stay; a crossing during the gap still counts); "
        "0 turns this off. A zone stay of a track lost inside the zone is also kept this long.",
    )
    reacquire_radius: float = Field(
        default=1.0,
        gt=0.0,
        description="How far, in box heights, a new track may appear from the lost track's last "
        "position moved on at its last speed.",
    )


class _PolygonRuleConfig(_RuleConfigBase):
    polygon: list[Point] = Field(
        description="Zone outline as [x, y] pixel points (at least 3, a simple polygon with area)."
    )

    @model_validator(mode="after")
    def _check_polygon(self) -> "_PolygonRuleConfig":
        if len(self.polygon) < 3:
            raise ValueError(f"rule {self.name!r}: polygon needs at least 3 points, got {len(self.polygon)}")
        shape = Polygon(self.polygon)
        if shape.convex_hull.area >= MIN_POLYGON_AREA_PX and not shape.is_valid:
            raise ValueError(f"rule {self.name!r}: polygon is not simple: {explain_validity(shape)}")
        if shape.area < MIN_POLYGON_AREA_PX:
            raise ValueError(
                f"rule {self.name!r}: polygon is degenerate (area {shape.area:.2f} px², "
                f"points {self.polygon})"
            )
        return self


class ZoneIntrusionConfig(_PolygonRuleConfig, _Reacquiring):
    """Fire once per stay when a tracked object has been inside the zone for ``min_dwell_s``."""

    type: Literal["zone_intrusion"] = Field(description="Rule selector: zone intrusion.")
    min_dwell_s: float = Field(default=0.5, ge=0.0, description="Seconds inside before the rule fires.")
    exit_grace_s: float = Field(
        default=1.0,
        ge=0.0,
        description="Seconds a track may be missing from the zone and still count as the same stay.",
    )


class LoiteringConfig(_PolygonRuleConfig, _Reacquiring):
    """Fire once per stay when a tracked object has stayed inside the zone for ``dwell_s``."""

    type: Literal["loitering"] = Field(description="Rule selector: loitering.")
    dwell_s: float = Field(default=20.0, gt=0.0, description="Seconds inside before the rule fires.")
    exit_grace_s: float = Field(
        default=2.0,
        ge=0.0,
        description="Seconds a track may be missing from the zone and still count as the same stay.",
    )


class CrowdingConfig(_PolygonRuleConfig):
    """Fire once when at least ``min_count`` tracked objects stay in the zone for ``min_duration_s``."""

    type: Literal["crowding"] = Field(description="Rule selector: crowding.")
    min_count: int = Field(ge=1, description="Objects in the zone at once that make a crowd.")
    min_duration_s: float = Field(default=5.0, ge=0.0, description="Seconds the crowd must persist.")
    exit_grace_s: float = Field(
        default=1.0,
        ge=0.0,
        description="Seconds the count may stay below min_count before the rule re-arms.",
    )


class LineCrossingConfig(_RuleConfigBase, _Reacquiring):
    """Fire each time a track's anchor crosses the segment from ``start`` to ``end``.

    Sides are defined looking from ``start`` towards ``end`` in image coordinates (y down, as the
    image is displayed): ``"in"`` is a move from the left side to the right side, ``"out"`` the
    reverse, ``"both"`` either. For a line drawn left to right, ``"in"`` is moving down the image.
    """

    type: Literal["line_crossing"] = Field(description="Rule selector: line crossing.")
    start: Point = Field(description="First end of the line, [x, y] in pixels.")
    end: Point = Field(description="Second end of the line, [x, y] in pixels.")
    direction: Literal["in", "out", "both"] = Field(
        default="both",
        description="Crossings that fire: 'in' (left to right looking start->end), 'out', both.",
    )
    max_gap_s: float = Field(
        default=2.0,
        gt=0.0,
        description="Seconds a track may go unseen and keep its last position (longer gaps never cross).",
    )

    @model_validator(mode="after")
    def _check_line(self) -> "LineCrossingConfig":
        length = ((self.end[0] - self.start[0]) ** 2 + (self.end[1] - self.start[1]) ** 2) ** 0.5
        if length < MIN_LINE_LENGTH_PX:
            raise ValueError(
                f"rule {self.name!r}: line from {self.start} to {self.end} is too short "
                f"({length:.2f} px, need >= {MIN_LINE_LENGTH_PX})"
            )
        return self


RuleConfig = Annotated[
    ZoneIntrusionConfig | LineCrossingConfig | LoiteringConfig | CrowdingConfig,
    Field(discriminator="type"),
]
"""Any rule configuration; pydantic picks the rule by ``type``."""

_RULE_CONFIG_ADAPTER: TypeAdapter[RuleConfig] = TypeAdapter(RuleConfig)


def parse_rule_config(data: Mapping[str, object]) -> RuleConfig:
    """Validate one rule's settings, raising ``AnalyticsError`` that names the rule and the bad keys."""
    try:
        return _RULE_CONFIG_ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<rule>'}: {err['msg']}" for err in exc.errors()
        )
        raise AnalyticsError(
            f"rule {data.get('name', '<unnamed>')!r} (type {data.get('type', '<missing>')!r}) is invalid: "
            f"{problems}"
        ) from exc
