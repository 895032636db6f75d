"""Geofences over key national infrastructure: polygons with an altitude band, a name and a classification.

A drone is inside a site when its position lies in the polygon and its height above ground lies in
``[floor_m, ceiling_m]``. The height is the report's own height above ground when it sends one,
else its altitude minus the site's ``ground_m``; a report without either is taken as inside the
band (a drone over a power plant whose altitude is unknown must not go unnoticed).

The packaged ``data/geofences.yaml`` holds a few **illustrative** sites drawn around public
landmarks (an airport, port areas); a site replaces it with its own file. Errors name the file,
line and field.
"""

import threading
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from shapely.geometry import Polygon

from hwarang.domain import Classification, Severity
from hwarang.geo.errors import GeoError
from hwarang.geo.polygons import LonLatPolygon

PACKAGED_GEOFENCES = "hwarang/geo/data/geofences.yaml"
"""How the packaged geofence file is named in error messages."""

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"

YamlPath = tuple[str | int, ...]


class GeofenceSite(BaseModel):
    """One protected site: where, how high, how secret, and how urgent an intrusion is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_SLUG, description="Unique site id, e.g. 'gimpo-airport'.")
    name: str = Field(min_length=1, max_length=128, description="Display name.")
    name_en: str | None = Field(default=None, max_length=128, description="English name.")
    kind: str = Field(pattern=_SLUG, description="What the site is: airport, port, power_plant, ...")
    classification: Classification = Field(
        default=Classification.RESTRICTED, description="Classification of the site and its alerts."
    )
    severity: Severity = Field(default=Severity.HIGH, description="Severity of a drone entering it.")
    sigungu_code: str = Field(
        pattern=r"^\d{5}$", description="Local government of the site (jurisdiction of its alerts)."
    )
    center_id: str | None = Field(
        default=None,
        pattern=_SLUG,
        description="Control center answering for it (default: the nearest camera's).",
    )
    floor_m: float = Field(default=0.0, description="Lowest protected height above ground, metres.")
    ceiling_m: float = Field(gt=0.0, description="Highest protected height above ground, metres.")
    ground_m: float = Field(default=0.0, description="Ground elevation (MSL) for reports without height.")
    polygon: LonLatPolygon = Field(
        min_length=3, description="Outline as (lon, lat) WGS84 vertices; closing it is optional."
    )
    illustrative: bool = Field(default=False, description="True for example sites that protect nothing.")

    @model_validator(mode="after")
    def _check_band(self) -> "GeofenceSite":
        if self.floor_m >= self.ceiling_m:
            raise ValueError(f"floor_m {self.floor_m} must be below ceiling_m {self.ceiling_m}")
        return self

    @property
    def sido_code(self) -> str:
        """The site's province (the first two digits of its local government)."""
        return self.sigungu_code[:2]

    def height_of(self, alt_m: float | None, height_m: float | None) -> float | None:
        """Height above ground of a report: its own height, else altitude minus ``ground_m``."""
        if height_m is not None:
            return height_m
        return None if alt_m is None else alt_m - self.ground_m

    def in_band(self, alt_m: float | None, height_m: float | None) -> bool:
        """True when the height lies in ``[floor_m, ceiling_m]`` (or is unknown)."""
        height = self.height_of(alt_m, height_m)
        return height is None or self.floor_m <= height <= self.ceiling_m


class _GeofenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sites: list[GeofenceSite] = Field(description="The protected sites.")


class GeofenceSet:
    """Validated sites with prepared polygons; answers which sites contain a position."""

    def __init__(self, sites: Sequence[GeofenceSite], source: str = "<memory>") -> None:
        ids = [site.id for site in sites]
        repeated = sorted({site_id for site_id in ids if ids.count(site_id) > 1})
        if repeated:
            raise GeoError(f"{source}: geofence site ids must be unique, repeated: {', '.join(repeated)}")
        self.sites: tuple[GeofenceSite, ...] = tuple(sites)
        self.source = source
        self._polygons = [Polygon(site.polygon) for site in self.sites]
        for polygon in self._polygons:
            shapely.prepare(polygon)
        self._bounds = [polygon.bounds for polygon in self._polygons]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.sites)

    def get(self, site_id: str) -> GeofenceSite | None:
        """The site with this id, or None."""
        return next((site for site in self.sites if site.id == site_id), None)

    def containing(
        self, lat: float, lon: float, alt_m: float | None = None, height_m: float | None = None
    ) -> list[GeofenceSite]:
        """Sites whose polygon holds ``lat``/``lon`` and whose altitude band holds the height."""
        found = []
        for site, polygon, (x0, y0, x1, y1) in zip(self.sites, self._polygons, self._bounds, strict=True):
            if not (x0 <= lon <= x1 and y0 <= lat <= y1) or not site.in_band(alt_m, height_m):
                continue
            with self._lock:  # prepared geometries are not thread-safe in every GEOS build
                inside = bool(shapely.contains_xy(polygon, lon, lat))
            if inside:
                found.append(site)
        return found


def _marks(node: yaml.Node, path: YamlPath, out: dict[YamlPath, int]) -> None:
    """Record the 1-based line of every value under ``node`` by its path."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value)
            out[(*path, name)] = key.start_mark.line + 1
            _marks(value, (*path, name), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _marks(item, (*path, index), out)


def _line_of(loc: Sequence[str | int], marks: dict[YamlPath, int]) -> int:
    path: YamlPath = tuple(loc)
    while path and path not in marks:
        path = path[:-1]
    return marks.get(path, 1)


def _site_label(raw: Any, loc: Sequence[str | int]) -> str:
    if len(loc) >= 2 and loc[0] == "sites" and isinstance(loc[1], int):
        entries = raw.get("sites") if isinstance(raw, dict) else None
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        site_id = entry.get("id") if isinstance(entry, dict) else None
        return f"site #{loc[1] + 1}" + (f" ({site_id})" if site_id else "")
    return "file"


def _validation_message(exc: ValidationError, raw: Any, marks: dict[YamlPath, int], where: str) -> str:
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        line = _line_of(loc, marks)
        field = ".".join(str(part) for part in loc[2:] if not isinstance(part, int)) or "(entry)"
        problems.append(
            f"{where}:{line}: {_site_label(raw, loc)}: {field}: {error['msg']} (got {error.get('input')!r})"
        )
    return "invalid geofence file:\n" + "\n".join(problems)


def _read(path: Path | None) -> tuple[str, str]:
    if path is None:
        return (files("hwarang.geo") / "data" / "geofences.yaml").read_text(
            encoding="utf-8"
        ), PACKAGED_GEOFENCES
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise GeoError(f"{path}: cannot read geofence file: {exc}") from exc


def parse_geofences(text: str, where: str = "<text>") -> GeofenceSet:
    """Validate geofence YAML; GeoError naming the file, line and field of every problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GeoError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise GeoError(f"{where}:1: expected a mapping with a 'sites' list, got {type(raw).__name__}")
    marks: dict[YamlPath, int] = {}
    if node is not None:
        _marks(node, (), marks)
    try:
        parsed = _GeofenceFile.model_validate(raw)
    except ValidationError as exc:
        raise GeoError(_validation_message(exc, raw, marks, where)) from None
    ids = [site.id for site in parsed.sites]
    for index, site in enumerate(parsed.sites):
        if site.id in ids[:index]:
            line = marks.get(("sites", index, "id"), 1)
            raise GeoError(f"{where}:{line}: site #{index + 1}: id {site.id!r} is used by an earlier site")
    return GeofenceSet(parsed.sites, where)


def load_geofences(path: Path | None = None) -> GeofenceSet:
    """Read and validate a geofence file (the packaged illustrative sites when ``path`` is None)."""
    text, where = _read(path)
    return parse_geofences(text, where)
