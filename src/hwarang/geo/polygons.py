"""Polygons given as (lon, lat) WGS84 vertices in configuration files."""

from typing import Annotated, Any

import numpy as np
import shapely
import shapely.geometry
from pydantic import AfterValidator
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


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


def rounded_valid(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    """``geom`` with coordinates on a ``10**-decimals`` grid, still valid and RFC 7946 oriented.

    Plain rounding can collapse thin rings to zero area or make edges cross; snap rounding
    (``set_precision``) keeps the result valid and drops collapsed rings and parts. Anything left
    that is not polygonal (a collapsed sliver) is dropped, then rings are oriented with the
    right-hand rule: exteriors counter-clockwise, holes clockwise. Non-polygonal input is rounded.
    """
    if not isinstance(geom, Polygon | MultiPolygon):
        return shapely.transform(geom, lambda coords: np.round(coords, decimals))
    snapped = shapely.set_precision(geom, 10.0**-decimals, mode="valid_output")
    if not snapped.is_valid:
        snapped = shapely.make_valid(snapped)
    polygons = [part for part in _polygons(snapped) if part.area > 0.0]
    cleaned: BaseGeometry = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    tidy = shapely.transform(cleaned, lambda coords: np.round(coords, decimals))  # float noise only
    return shapely.orient_polygons(tidy, exterior_cw=False)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon | GeometryCollection):
        return [p for part in geom.geoms for p in _polygons(part)]
    return []


def polygon_problems(geojson_geometry: dict[str, Any]) -> list[str]:
    """What is wrong with a GeoJSON (Multi)Polygon: invalid, zero-area rings, or rings not oriented."""
    geom = shapely.geometry.shape(geojson_geometry)
    problems = [] if geom.is_valid else [f"invalid: {shapely.is_valid_reason(geom)}"]
    for polygon in _polygons(geom):
        rings = [(polygon.exterior, True)] + [(ring, False) for ring in polygon.interiors]
        for ring, exterior in rings:
            if Polygon(ring).area <= 0.0:
                problems.append("zero-area ring")
            elif ring.is_ccw != exterior:
                problems.append(f"{'exterior' if exterior else 'hole'} ring wound the wrong way")
    return problems
