"""Geofence files: the packaged illustrative sites, containment with altitude bands, line-numbered errors."""

from pathlib import Path

import pytest

from hwarang.domain import Classification, Severity
from hwarang.geo.errors import GeoError
from hwarang.geo.geofences import load_geofences, parse_geofences

SITE = """\
sites:
  - id: plant
    name: Power plant
    kind: power_plant
    classification: confidential
    severity: critical
    sigungu_code: "11500"
    floor_m: 20
    ceiling_m: 150
    ground_m: 10
    polygon: [[126.0, 37.0], [126.01, 37.0], [126.01, 37.01], [126.0, 37.01]]
"""


def test_the_packaged_sites_are_illustrative_and_load() -> None:
    fences = load_geofences()
    assert len(fences) >= 3
    assert all(site.illustrative for site in fences.sites)
    assert [site.id for site in fences.containing(37.56, 126.79, height_m=100.0)] == ["gimpo-airport"]


def test_inside_means_polygon_and_altitude_band() -> None:
    fences = parse_geofences(SITE)
    site = fences.sites[0]
    assert site.classification is Classification.CONFIDENTIAL and site.severity is Severity.CRITICAL
    assert site.sido_code == "11"
    assert fences.containing(37.005, 126.005, height_m=50.0) == [site]
    assert fences.containing(37.005, 126.005, height_m=19.0) == []  # under the floor
    assert fences.containing(37.005, 126.005, height_m=151.0) == []  # over the ceiling
    assert fences.containing(37.02, 126.005, height_m=50.0) == []  # outside the polygon
    # without a height, the altitude less the ground elevation: 35 m MSL is 25 m above ground
    assert fences.containing(37.005, 126.005, alt_m=35.0) == [site]
    assert fences.containing(37.005, 126.005, alt_m=25.0) == []
    assert fences.containing(37.005, 126.005) == [site]  # unknown altitude counts as inside


def test_errors_name_the_file_line_site_and_field(tmp_path: Path) -> None:
    bad = SITE.replace('sigungu_code: "11500"', "sigungu_code: 11500").replace(
        "kind: power_plant", "kind: P P"
    )
    path = tmp_path / "fences.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(GeoError) as info:
        load_geofences(path)
    message = str(info.value)
    assert f"{path}:4: site #1 (plant): kind: String should match pattern" in message
    assert f"{path}:7: site #1 (plant): sigungu_code: Input should be a valid string (got 11500)" in message
    with pytest.raises(
        GeoError, match=r"<text>:2: site #1 \(plant\): \(entry\): .*floor_m 20.0 must be below"
    ):
        parse_geofences(SITE.replace("ceiling_m: 150", "ceiling_m: 5"))


def test_repeated_ids_and_bad_polygons_are_refused() -> None:
    twice = SITE + SITE.split("sites:\n", 1)[1]
    with pytest.raises(GeoError, match=r"<text>:12: site #2: id 'plant' is used by an earlier site"):
        parse_geofences(twice)
    bowtie = SITE.replace(
        "[[126.0, 37.0], [126.01, 37.0], [126.01, 37.01], [126.0, 37.01]]",
        "[[126.0, 37.0], [126.01, 37.01], [126.01, 37.0], [126.0, 37.01]]",
    )
    with pytest.raises(GeoError, match=r"<text>:11: site #1 \(plant\): polygon: .*not a simple area"):
        parse_geofences(bowtie)
    with pytest.raises(GeoError, match="not valid YAML"):
        parse_geofences("sites: [")
    with pytest.raises(GeoError, match="cannot read geofence file"):
        load_geofences(Path("/nonexistent/fences.yaml"))
