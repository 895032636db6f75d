"""Hwarang exercise zones: which sido are exercised together.

The grouping is configuration, not a fact of the boundary data: the packaged
``data/exercise_zones.yaml`` is a plausible default (11 zones) that a site replaces with the
official zone table of its exercise. Whatever file is used must put every sido of the catalog in
exactly one zone, name no unknown sido code and give each zone a unique id.
"""

import math
import threading
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shapely.geometry.base import BaseGeometry

from hwarang.domain import ExerciseZone
from hwarang.geo.errors import GeoError
from hwarang.geo.regions import RegionCatalog, default_catalog

PACKAGED_ZONES = "hwarang/geo/data/exercise_zones.yaml"
"""How the packaged zone file is named in error messages."""


class _ZoneFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zones: list[ExerciseZone] = Field(min_length=1, description="The exercise zones.")


def zone_geometry(zone: ExerciseZone, catalog: RegionCatalog, tolerance_deg: float = 0.0) -> BaseGeometry:
    """Union of the zone's sido boundaries, simplified (topology kept) when tolerance > 0."""
    if not math.isfinite(tolerance_deg) or tolerance_deg < 0.0:
        raise GeoError(f"tolerance_deg must be a finite number >= 0, got {tolerance_deg!r}")
    merged = shapely.union_all([catalog.boundary(code) for code in zone.sido_codes])
    if tolerance_deg > 0.0:
        merged = shapely.simplify(merged, tolerance_deg, preserve_topology=True)
    return merged


class ZoneTable:
    """A validated set of exercise zones over the sido of one catalog."""

    def __init__(self, zones: Sequence[ExerciseZone], catalog: RegionCatalog, source: str) -> None:
        self.zones: tuple[ExerciseZone, ...] = tuple(sorted(zones, key=lambda z: z.id))
        self.source = source
        self._catalog = catalog
        self._by_id = {zone.id: zone for zone in self.zones}
        self._by_sido = {code: zone for zone in self.zones for code in zone.sido_codes}
        self._geometries: dict[tuple[int, float], BaseGeometry] = {}
        self._lock = threading.Lock()

    def get(self, zone_id: int) -> ExerciseZone:
        """The zone with this id; GeoError when there is none."""
        zone = self._by_id.get(zone_id)
        if zone is None:
            known = ", ".join(str(z.id) for z in self.zones)
            raise GeoError(f"unknown exercise zone {zone_id!r} in {self.source} (known: {known})")
        return zone

    def zone_for_sido(self, code: str) -> ExerciseZone | None:
        """The zone a sido belongs to, or None for a code that is not a sido of the table."""
        return self._by_sido.get(code)

    def geometry(self, zone_id: int, tolerance_deg: float = 0.0) -> BaseGeometry:
        """The zone's area (union of its sido boundaries), cached per tolerance."""
        zone = self.get(zone_id)
        key = (zone.id, float(tolerance_deg))
        with self._lock:
            cached = self._geometries.get(key)
            if cached is None:
                cached = zone_geometry(zone, self._catalog, tolerance_deg)
                self._geometries[key] = cached
        return cached


def _read(path: Path | None) -> tuple[Any, str]:
    if path is None:
        text = (files("hwarang.geo") / "data" / "exercise_zones.yaml").read_text(encoding="utf-8")
        where = PACKAGED_ZONES
    else:
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise GeoError(f"{where}: cannot read exercise zone file: {exc}") from exc
    try:
        return yaml.safe_load(text), where
    except yaml.YAMLError as exc:
        raise GeoError(f"{where}: not valid YAML: {exc}") from exc


def _zone_label(raw: Any, index: int) -> str:
    entries = raw.get("zones") if isinstance(raw, dict) else None
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    if isinstance(entry, dict):
        return f"zone #{index + 1} (id {entry.get('id')!r}, {entry.get('name')!r})"
    return f"zone #{index + 1}"


def _validation_message(exc: ValidationError, raw: Any, where: str) -> str:
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        label = "file"
        if len(loc) >= 2 and loc[0] == "zones" and isinstance(loc[1], int):
            label = _zone_label(raw, loc[1])
            loc = loc[2:]
        field = ".".join(str(part) for part in loc) or "(entry)"
        hint = ' (quote sido codes: "11")' if "sido_codes" in field and error["type"] == "string_type" else ""
        problems.append(f"{label}: {field}: {error['msg']} (got {error.get('input')!r}){hint}")
    return f"{where}: invalid exercise zone file: " + "; ".join(problems)


def _check(zones: Sequence[ExerciseZone], catalog: RegionCatalog, where: str) -> None:
    sido_names = {region.code: region.name for region in catalog.sidos()}
    problems: list[str] = []
    seen_ids: set[int] = set()
    owner: dict[str, ExerciseZone] = {}
    for zone in zones:
        label = f"zone {zone.id} ({zone.name})"
        if zone.id in seen_ids:
            problems.append(f"zone id {zone.id} is used by more than one zone")
        seen_ids.add(zone.id)
        for code in zone.sido_codes:
            if code not in sido_names:
                problems.append(
                    f"{label}: unknown sido code {code!r} (known: {', '.join(sorted(sido_names))})"
                )
            elif code in owner:
                first = owner[code]
                problems.append(
                    f"sido {code} ({sido_names[code]}) is in more than one zone: "
                    f"zone {first.id} ({first.name}) and {label}"
                )
            else:
                owner[code] = zone
    for code, name in sorted(sido_names.items()):
        if code not in owner and all(code not in z.sido_codes for z in zones):
            problems.append(f"sido {code} ({name}) is in no zone")
    if problems:
        raise GeoError(f"{where}: invalid exercise zone table: " + "; ".join(problems))


def load_zones(path: Path | None = None, *, catalog: RegionCatalog | None = None) -> ZoneTable:
    """Read and validate an exercise zone file (the packaged default when ``path`` is None)."""
    catalog = catalog or default_catalog()
    raw, where = _read(path)
    if not isinstance(raw, dict):
        raise GeoError(f"{where}: expected a mapping with a 'zones' list, got {type(raw).__name__}")
    try:
        parsed = _ZoneFile.model_validate(raw)
    except ValidationError as exc:
        raise GeoError(_validation_message(exc, raw, where)) from None
    _check(parsed.zones, catalog, where)
    return ZoneTable(parsed.zones, catalog, where)
