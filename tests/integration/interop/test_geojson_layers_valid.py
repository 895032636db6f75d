"""Every GeoJSON layer Hwarang serves: all polygons valid (shapely), no zero-area rings, rings
oriented by RFC 7946's right-hand rule (exteriors counter-clockwise, holes clockwise).

Regions and zones are checked at every detail level of the map page's layers and at the interop
export's tolerances, over the full packaged catalog (17 sido, every sigungu, 11 zones).
"""

import json
from typing import Any

import pytest

from hwarang.domain import Camera, GeoPoint
from hwarang.geo import default_catalog, load_zones
from hwarang.geo.geofences import load_geofences
from hwarang.geo.map_layers import Detail, MapLayers
from hwarang.geo.polygons import polygon_problems
from hwarang.interop.geojson import (
    cameras_to_feature_collection,
    geofences_to_feature_collection,
    incidents_to_feature_collection,
    regions_to_feature_collection,
    zones_to_feature_collection,
)

pytestmark = pytest.mark.integration


def _problems(document: dict[str, Any]) -> tuple[int, list[str]]:
    polygons, problems = 0, []
    for feature in document["features"]:
        geometry = feature["geometry"]
        if geometry is not None and geometry["type"] in ("Polygon", "MultiPolygon"):
            polygons += 1
            problems += [f"{feature.get('id')}: {p}" for p in polygon_problems(geometry)]
    return polygons, problems


@pytest.fixture(scope="module")
def layers() -> MapLayers:
    return MapLayers(default_catalog())


@pytest.mark.parametrize("detail", list(Detail))
@pytest.mark.parametrize("level", ["sido", "sigungu"])
def test_map_region_layers_are_valid_and_oriented(layers: MapLayers, level: str, detail: Detail) -> None:
    body = layers.regions(level, detail)  # type: ignore[arg-type]
    polygons, problems = _problems(json.loads(body.body))
    assert polygons == body.features and polygons >= 17
    assert problems == []


@pytest.mark.parametrize("detail", list(Detail))
def test_map_zone_layers_are_valid_and_oriented(layers: MapLayers, detail: Detail) -> None:
    body = layers.zones(detail)
    polygons, problems = _problems(json.loads(body.body))
    assert polygons == 11
    assert problems == []


@pytest.mark.parametrize("tolerance", [0.0, 0.001, 0.01])
def test_interop_region_and_zone_exports_are_valid_and_oriented(tolerance: float) -> None:
    catalog = default_catalog()
    for level in ("sido", "sigungu"):
        polygons, problems = _problems(regions_to_feature_collection(catalog, level, tolerance))
        assert polygons >= 17 and problems == [], level
    polygons, problems = _problems(zones_to_feature_collection(load_zones(), catalog, tolerance))
    assert polygons == 11 and problems == []


def test_geofence_camera_and_incident_layers_are_valid_and_oriented() -> None:
    sites = load_geofences().sites
    polygons, problems = _problems(geofences_to_feature_collection(sites))
    assert polygons == len(sites) > 0 and problems == []
    cameras = [
        Camera(
            id=f"cam-{int(heading)}-{int(fov)}",
            center_id="seoul-jung",
            name="test",
            position=GeoPoint(lat=37.5663, lon=126.9779),
            heading_deg=heading,
            fov_deg=fov,
            sido_code="11",
            sigungu_code="11140",
        )
        for heading in (0.0, 95.0, 270.0, 359.0)
        for fov in (30.0, 120.0, 360.0)
    ]
    polygons, problems = _problems(cameras_to_feature_collection(cameras))
    assert polygons == len(cameras) and problems == []
    assert _problems(incidents_to_feature_collection([])) == (0, [])  # incidents, drones: points, lines
