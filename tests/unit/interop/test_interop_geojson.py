"""GeoJSON export: RFC 7946 structure, [lon, lat] order, rounding, skipped incidents."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import Point, shape

from hwarang.domain import Camera, GeoPoint, Incident, ObjectClass, RuleKind
from hwarang.geo import RegionCatalog, default_catalog, load_zones
from hwarang.interop.geojson import (
    cameras_to_feature_collection,
    incidents_to_feature_collection,
    regions_to_feature_collection,
    zones_to_feature_collection,
)

T0 = datetime(2025, 8, 18, 14, 0, tzinfo=UTC)
CITY_HALL = GeoPoint(lat=37.56631234, lon=126.97791234)


def _incident(geo: GeoPoint | None, title: str = "fence intrusion") -> Incident:
    return Incident(
        id=uuid.uuid4(),
        seq=1,
        title=title,
        object_class=ObjectClass.PERSON,
        rule=RuleKind.ZONE_INTRUSION,
        camera_id="cam-1",
        center_id="seoul-jung",
        sido_code="11",
        sigungu_code="11140",
        zone_id=1,
        geo=geo,
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=30),
        event_ids=(uuid.uuid4(),),
        exercise=True,
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture(scope="module")
def catalog() -> RegionCatalog:
    return default_catalog()


def _assert_collection(collection: dict[str, Any]) -> list[dict[str, Any]]:
    assert collection["type"] == "FeatureCollection"
    features: list[dict[str, Any]] = collection["features"]
    assert isinstance(features, list)
    for feature in features:
        assert feature["type"] == "Feature"
        assert set(feature) >= {"type", "id", "geometry", "properties"}
    assert json.loads(json.dumps(collection, ensure_ascii=False)) == collection
    return features


def test_incidents_are_points_in_lon_lat_order() -> None:
    placed = _incident(CITY_HALL)
    collection = incidents_to_feature_collection([placed, _incident(None), _incident(None)])
    features = _assert_collection(collection)
    assert collection["skipped_without_geo"] == 2
    assert len(features) == 1
    feature = features[0]
    assert feature["id"] == str(placed.id)
    assert feature["geometry"] == {"type": "Point", "coordinates": [126.977912, 37.566312]}
    props = feature["properties"]
    assert props["id"] == str(placed.id)
    assert (props["state"], props["severity"], props["classification"]) == ("new", "medium", "restricted")
    assert (props["object_class"], props["rule"], props["zone_id"]) == ("person", "zone_intrusion", 1)
    assert (props["sido_code"], props["sigungu_code"], props["camera_id"]) == ("11", "11140", "cam-1")
    assert datetime.fromisoformat(props["first_seen"]) == T0
    assert datetime.fromisoformat(props["last_seen"]) == T0 + timedelta(seconds=30)
    assert props["exercise"] is True and props["title"] == "fence intrusion"


def test_no_incidents_is_an_empty_collection() -> None:
    collection = incidents_to_feature_collection(iter([]))
    assert collection == {"type": "FeatureCollection", "features": [], "skipped_without_geo": 0}


def test_one_sido_boundary(catalog: RegionCatalog) -> None:
    features = _assert_collection(regions_to_feature_collection(catalog, "sido", 0.001, sido_code="11"))
    assert len(features) == 1
    seoul = features[0]
    assert seoul["id"] == "11" and seoul["properties"]["name"] == "서울특별시"
    geom = shape(seoul["geometry"])
    assert geom.geom_type in {"Polygon", "MultiPolygon"}
    assert geom.contains(Point(126.9779, 37.5663))  # lon first: a lat/lon swap would fail here
    polygons = list(getattr(geom, "geoms", [geom]))
    assert all(p.exterior.is_ccw for p in polygons)
    coords = seoul["geometry"]["coordinates"]
    first = coords[0][0][0] if geom.geom_type == "MultiPolygon" else coords[0][0]
    assert all(len(str(value).split(".")[-1]) <= 6 for value in first)


def test_sigungu_of_a_sido_with_local_government(catalog: RegionCatalog) -> None:
    features = _assert_collection(regions_to_feature_collection(catalog, "sigungu", 0.001, sido_code="41"))
    by_code = {f["id"]: f["properties"] for f in features}
    assert len(features) == len(catalog.sigungus("41"))
    assert by_code["41111"]["name"] == "수원시 장안구"
    assert by_code["41111"]["local_government_code"] == "41110"
    assert by_code["41150"]["local_government_code"] == "41150"
    assert all(p["parent_code"] == "41" and p["level"] == "sigungu" for p in by_code.values())


def test_all_sido(catalog: RegionCatalog) -> None:
    features = _assert_collection(regions_to_feature_collection(catalog, "sido", 0.01))
    assert sorted(f["id"] for f in features) == sorted(r.code for r in catalog.sidos())


def test_zones(catalog: RegionCatalog) -> None:
    zones = load_zones(catalog=catalog)
    features = _assert_collection(zones_to_feature_collection(zones, catalog, 0.01))
    assert [f["id"] for f in features] == list(range(1, 12))
    jeju = features[10]
    assert jeju["properties"] == {"id": 11, "name": "제주", "name_en": "Jeju", "sido_codes": ["50"]}
    assert shape(jeju["geometry"]).contains(Point(126.5312, 33.4996))
    assert not shape(features[0]["geometry"]).contains(Point(126.5312, 33.4996))


def test_cameras_point_and_fov_polygon() -> None:
    camera = Camera(
        id="cam-1",
        center_id="seoul-jung",
        name="City Hall plaza",
        position=CITY_HALL,
        heading_deg=90.0,
        fov_deg=60.0,
        range_m=100.0,
        sido_code="11",
        sigungu_code="11140",
    )
    features = _assert_collection(cameras_to_feature_collection([camera]))
    assert [f["properties"]["kind"] for f in features] == ["camera", "fov"]
    point, sector = features
    assert point["geometry"]["coordinates"] == [126.977912, 37.566312]
    assert point["properties"]["calibrated"] is False and point["properties"]["heading_deg"] == 90.0
    ring = sector["geometry"]["coordinates"][0]
    assert sector["geometry"]["type"] == "Polygon" and sector["id"] == "cam-1:fov"
    assert ring[0] == ring[-1] and [126.977912, 37.566312] in ring  # closed, apex at the camera
    polygon = shape(sector["geometry"])
    assert polygon.is_valid and polygon.exterior.is_ccw
    # looking east: the sector lies east of the camera, about 100 m (~0.00113° of longitude) deep
    assert polygon.bounds[0] == pytest.approx(126.977912, abs=1e-6)
    assert polygon.bounds[2] == pytest.approx(126.977912 + 0.001133, abs=2e-5)
