"""Exercise zone table: the packaged default and validation of replacement files."""

from pathlib import Path

import pytest
import yaml
from shapely.geometry import Point

from hwarang.geo import GeoError, RegionCatalog, ZoneTable, default_catalog, load_zones
from hwarang.geo.zones import PACKAGED_ZONES


@pytest.fixture(scope="module")
def catalog() -> RegionCatalog:
    return default_catalog()


@pytest.fixture(scope="module")
def table(catalog: RegionCatalog) -> ZoneTable:
    return load_zones(catalog=catalog)


def _packaged() -> dict[str, list[dict[str, object]]]:
    text = (Path(__file__).resolve().parents[3] / "src" / PACKAGED_ZONES).read_text(encoding="utf-8")
    data: dict[str, list[dict[str, object]]] = yaml.safe_load(text)
    return data


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "zones.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_default_has_eleven_zones_covering_every_sido_once(table: ZoneTable, catalog: RegionCatalog) -> None:
    assert [z.id for z in table.zones] == list(range(1, 12))
    listed = [code for zone in table.zones for code in zone.sido_codes]
    assert sorted(listed) == sorted(r.code for r in catalog.sidos())
    assert len(listed) == len(set(listed)) == 17
    for sido in catalog.sidos():
        zone = table.zone_for_sido(sido.code)
        assert zone is not None and sido.code in zone.sido_codes
    assert table.zone_for_sido("11140") is None


@pytest.mark.parametrize(
    ("sido", "zone_id", "name"),
    [
        ("11", 1, "서울"),
        ("41", 2, "인천·경기"),
        ("36", 4, "대전·세종·충남"),
        ("52", 7, "전북"),
        ("50", 11, "제주"),
    ],
)
def test_default_grouping(table: ZoneTable, sido: str, zone_id: int, name: str) -> None:
    zone = table.zone_for_sido(sido)
    assert zone is not None and (zone.id, zone.name) == (zone_id, name)


def test_zone_geometry_is_union_of_its_sido(table: ZoneTable) -> None:
    area = table.geometry(4, 0.001)
    assert area.contains(Point(127.3845, 36.3504))  # 대전 city hall
    assert area.contains(Point(127.2890, 36.4800))  # 세종
    assert area.contains(Point(126.6600, 36.6590))  # 충남 (홍성)
    assert not area.contains(Point(126.9779, 37.5663))  # Seoul
    assert table.geometry(4, 0.001) is area
    with pytest.raises(GeoError, match="unknown exercise zone 12"):
        table.geometry(12)


def test_packaged_file_path_in_errors_and_good_copy_loads(tmp_path: Path, catalog: RegionCatalog) -> None:
    copy = load_zones(_write(tmp_path, _packaged()), catalog=catalog)
    assert copy.source == str(tmp_path / "zones.yaml")
    assert len(copy.zones) == 11


def test_missing_sido_is_named(tmp_path: Path, catalog: RegionCatalog) -> None:
    data = _packaged()
    data["zones"][3]["sido_codes"] = ["30", "44"]  # drop 세종
    path = _write(tmp_path, data)
    with pytest.raises(GeoError) as info:
        load_zones(path, catalog=catalog)
    assert str(path) in str(info.value)
    assert "sido 36 (세종특별자치시) is in no zone" in str(info.value)


def test_duplicate_sido_is_named(tmp_path: Path, catalog: RegionCatalog) -> None:
    data = _packaged()
    data["zones"][1]["sido_codes"] = ["28", "41", "11"]
    path = _write(tmp_path, data)
    with pytest.raises(GeoError, match=r"sido 11 \(서울특별시\) is in more than one zone") as info:
        load_zones(path, catalog=catalog)
    assert str(path) in str(info.value) and "zone 2" in str(info.value)


def test_unknown_code_is_named(tmp_path: Path, catalog: RegionCatalog) -> None:
    data = _packaged()
    data["zones"][0]["sido_codes"] = ["11", "99"]
    path = _write(tmp_path, data)
    with pytest.raises(GeoError, match=r"zone 1 \(서울\): unknown sido code '99'") as info:
        load_zones(path, catalog=catalog)
    assert str(path) in str(info.value)


def test_duplicate_zone_id(tmp_path: Path, catalog: RegionCatalog) -> None:
    data = _packaged()
    data["zones"][10]["id"] = 10
    with pytest.raises(GeoError, match="zone id 10 is used by more than one zone"):
        load_zones(_write(tmp_path, data), catalog=catalog)


def test_schema_errors_name_the_zone(tmp_path: Path, catalog: RegionCatalog) -> None:
    data = _packaged()
    data["zones"][2]["sido_codes"] = [42]  # unquoted number
    del data["zones"][4]["name_en"]
    with pytest.raises(GeoError) as info:
        load_zones(_write(tmp_path, data), catalog=catalog)
    message = str(info.value)
    assert "zone #3 (id 3, '강원'): sido_codes.0" in message and "quote sido codes" in message
    assert "zone #5 (id 5, '충북'): name_en: Field required" in message


def test_unreadable_and_malformed_files(tmp_path: Path, catalog: RegionCatalog) -> None:
    with pytest.raises(GeoError, match="cannot read"):
        load_zones(tmp_path / "absent.yaml", catalog=catalog)
    bad = tmp_path / "bad.yaml"
    bad.write_text("zones: [", encoding="utf-8")
    with pytest.raises(GeoError, match="not valid YAML"):
        load_zones(bad, catalog=catalog)
    with pytest.raises(GeoError, match="expected a mapping"):
        load_zones(_write(tmp_path, ["11"]), catalog=catalog)
