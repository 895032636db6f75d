"""Polygons given as (lon, lat) WGS84 vertices in configuration files."""

from typing import Annotated

import shapely
from pydantic import AfterValidator
from shapely.geometry import Polygon


def check_lonlat_polygon(value: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``value`` unchanged if its vertices are degrees and it outlines a simple area, else ValueError."""
    for lon, lat in value:
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise ValueError(f"vertex ({lon}, {lat}) is not a (lon, lat) position in degrees")
    polygon = Polygon(value)
    if not polygon.is_valid or polygon.area <= 0.0:
        raise ValueError(f"polygon is not a simple area: {shapely.is_valid_reason(polygon)}")
    return value


LonLatPolygon = Annotated[list[tuple[float, float]], AfterValidator(check_lonlat_polygon)]
"""A field type: (lon, lat) vertices outlining a simple area (closing it is optional)."""
