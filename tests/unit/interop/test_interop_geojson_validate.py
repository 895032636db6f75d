"""Every GeoJSON document Hwarang exports validates with geojson-pydantic (RFC 7946 models)."""

import json
from typing import Any

import pytest
from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, ValidationError

from hwarang.domain import Camera, IncidentState
from hwarang.geo import RegionCatalog, default_catalog, load_zones
from hwarang.interop.geojson import (
    cameras_to_feature_collection,
    incident_to_feature,
    incidents_to_feature_collection,
    regions_to_feature_collection,
    zones_to_feature_collection,
)
from tests.unit.interop.interop_support import CITY_HALL, make_incident

AnyFeature = Feature[Geometry, dict[str, Any]]
AnyCollection = FeatureCollection[AnyFeature]


def _positions(value: Any) -> list[list[float]]:
    if isinstance(value, list) and value and isinstance(value[0], int | float):
        return [value]
    return [p for item in value for p in _positions(item)] if isinstance(value, list) else []


def _validate(document: dict[str, Any], model: type[BaseModel] = AnyCollection) -> None:
    """Validate after a JSON round trip, and check every position is [lon, lat] in range."""
    wire = json.loads(json.dumps(document, ensure_ascii=False))
    model.model_validate(wire)
    features = wire["features"] if wire["type"] == "FeatureCollection" else [wire]
    for feature in features:
        if feature["geometry"] is not None:
            for lon, lat in _positions(feature["geometry"]["coordinates"]):
                assert -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


@pytest.fixture(scope="module")
def catalog() -> RegionCatalog:
    return default_catalog()


def test_incident_collection_and_features_validate() -> None:
    incidents = [make_incident(), make_incident(geo=None), make_incident(state=IncidentState.RESOLVED)]
    collection = incidents_to_feature_collection(incidents)
    _validate(collection)
    assert len(collection["features"]) == 2 and collection["skipped_without_geo"] == 1
    placed = incident_to_feature(make_incident())
    _validate(placed, AnyFeature)
    assert placed["geometry"] == {"type": "Point", "coordinates": [126.977912, 37.566312]}
    unplaced = incident_to_feature(make_incident(geo=None))
    _validate(unplaced, AnyFeature)
    assert unplaced["geometry"] is None and unplaced["properties"]["sigungu_code"] == "11140"


def test_region_zone_and_camera_collections_validate(catalog: RegionCatalog) -> None:
    _validate(regions_to_feature_collection(catalog, "sido", 0.01))
    _validate(regions_to_feature_collection(catalog, "sigungu", 0.005, sido_code="11"))
    _validate(zones_to_feature_collection(load_zones(catalog=catalog), catalog, 0.02))
    camera = Camera(
        id="cam-1",
        center_id="seoul-jung",
        name="City Hall",
        position=CITY_HALL,
        heading_deg=45.0,
        sido_code="11",
        sigungu_code="11140",
    )
    _validate(cameras_to_feature_collection([camera]))


def test_the_validator_rejects_broken_geojson() -> None:
    feature = incident_to_feature(make_incident())
    broken_ring = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}
    for bad in (
        {**feature, "type": "Point"},
        {**feature, "geometry": {"type": "Point", "coordinates": [126.9]}},
        {**feature, "geometry": broken_ring},
    ):
        with pytest.raises(ValidationError):
            AnyFeature.model_validate(bad)
