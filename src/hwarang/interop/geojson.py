"""GeoJSON (RFC 7946) for GIS tools and the map: incidents, regions, exercise zones, cameras.

Positions are [longitude, latitude] in WGS84, rounded to 6 decimals (about 0.1 m); polygon
exterior rings run counterclockwise. The functions return plain dicts ready for ``json.dumps``.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from hwarang.domain import Camera, ExerciseZone, GeoPoint, Incident, Region, RegionLevel
from hwarang.geo.calibration import fov_outline
from hwarang.geo.geofences import GeofenceSite
from hwarang.geo.polygons import rounded_valid

DECIMALS = 6

JsonDict = dict[str, Any]


class RegionSource(Protocol):
    """What the region exporter needs from a region catalog (``hwarang.geo.RegionCatalog``)."""

    def sidos(self) -> list[Region]: ...

    def sigungus(self, sido_code: str | None = None) -> list[Region]: ...

    def boundary(self, code: str, *, tolerance_deg: float = 0.0) -> BaseGeometry: ...

    def local_government(self, code: str) -> Region: ...


class ZoneSource(Protocol):
    """What the zone exporter needs from a zone table (``hwarang.geo.ZoneTable``)."""

    @property
    def zones(self) -> Sequence[ExerciseZone]: ...


def _position(point: GeoPoint) -> list[float]:
    return [round(point.lon, DECIMALS), round(point.lat, DECIMALS)]


def geometry_to_geojson(geom: BaseGeometry) -> JsonDict:
    """A shapely geometry (lon/lat) as a GeoJSON geometry object: rounded, rings oriented."""
    result: JsonDict = json.loads(shapely.to_geojson(rounded_valid(geom, DECIMALS)))
    return result


def _feature(feature_id: str | int, geometry: JsonDict, properties: JsonDict) -> JsonDict:
    return {"type": "Feature", "id": feature_id, "geometry": geometry, "properties": properties}


def _collection(features: list[JsonDict], **members: Any) -> JsonDict:
    return {"type": "FeatureCollection", "features": features, **members}


def _incident_properties(incident: Incident) -> JsonDict:
    return {
        "id": str(incident.id),
        "seq": incident.seq,
        "title": incident.title,
        "state": incident.state.value,
        "severity": incident.severity.value,
        "classification": incident.classification.value,
        "object_class": incident.object_class.value,
        "rule": incident.rule.value,
        "camera_id": incident.camera_id,
        "center_id": incident.center_id,
        "sido_code": incident.sido_code,
        "sigungu_code": incident.sigungu_code,
        "zone_id": incident.zone_id,
        "first_seen": incident.first_seen.isoformat(),
        "last_seen": incident.last_seen.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "event_count": len(incident.event_ids),
        "exercise": incident.exercise,
    }


def incident_to_feature(incident: Incident) -> JsonDict:
    """One incident as a Feature: a Point, or a null geometry while its position is unknown."""
    geometry = None if incident.geo is None else {"type": "Point", "coordinates": _position(incident.geo)}
    return {
        "type": "Feature",
        "id": str(incident.id),
        "geometry": geometry,
        "properties": _incident_properties(incident),
    }


def incidents_to_feature_collection(incidents: Iterable[Incident]) -> JsonDict:
    """Point features of incidents; those without a position are skipped and counted.

    The count is the foreign member ``skipped_without_geo`` of the collection.
    """
    features: list[JsonDict] = []
    skipped = 0
    for incident in incidents:
        if incident.geo is None:
            skipped += 1
            continue
        features.append(incident_to_feature(incident))
    return _collection(features, skipped_without_geo=skipped)


def regions_to_feature_collection(
    catalog: RegionSource, level: RegionLevel, tolerance_deg: float, sido_code: str | None = None
) -> JsonDict:
    """Boundary features of every sido, or of the sigungu (of one sido when ``sido_code`` is given).

    At ``level="sido"`` a ``sido_code`` keeps only that sido. Sigungu features carry the code of
    the local government they belong to (a 일반구 its city); note that 천안시 and 창원시 appear both
    whole and as their districts.
    """
    if level == "sido":
        regions = [r for r in catalog.sidos() if sido_code is None or r.code == sido_code]
    else:
        regions = catalog.sigungus(sido_code)
    features = []
    for region in regions:
        properties: JsonDict = {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "parent_code": region.parent_code,
        }
        if region.level == "sigungu":
            properties["local_government_code"] = catalog.local_government(region.code).code
        geometry = geometry_to_geojson(catalog.boundary(region.code, tolerance_deg=tolerance_deg))
        features.append(_feature(region.code, geometry, properties))
    return _collection(features)


def zones_to_feature_collection(zones: ZoneSource, catalog: RegionSource, tolerance_deg: float) -> JsonDict:
    """One feature per exercise zone: the union of its sido boundaries, simplified after the union."""
    features = []
    for zone in zones.zones:
        merged = shapely.union_all([catalog.boundary(code) for code in zone.sido_codes])
        if tolerance_deg > 0.0:
            merged = shapely.simplify(merged, tolerance_deg, preserve_topology=True)
        properties: JsonDict = {
            "id": zone.id,
            "name": zone.name,
            "name_en": zone.name_en,
            "sido_codes": list(zone.sido_codes),
        }
        features.append(_feature(zone.id, geometry_to_geojson(merged), properties))
    return _collection(features)


def cameras_to_feature_collection(cameras: Iterable[Camera]) -> JsonDict:
    """Per camera, a Point feature (``kind: camera``) and its view sector (``kind: fov``)."""
    features = []
    for camera in cameras:
        properties: JsonDict = {
            "kind": "camera",
            "id": camera.id,
            "name": camera.name,
            "center_id": camera.center_id,
            "sido_code": camera.sido_code,
            "sigungu_code": camera.sigungu_code,
            "heading_deg": camera.heading_deg,
            "fov_deg": camera.fov_deg,
            "range_m": camera.range_m,
            "calibrated": camera.calibration is not None,
        }
        point = {"type": "Point", "coordinates": _position(camera.position)}
        features.append(_feature(camera.id, point, properties))
        sector = geometry_to_geojson(Polygon([(p.lon, p.lat) for p in fov_outline(camera)]))
        features.append(_feature(f"{camera.id}:fov", sector, {"kind": "fov", "camera_id": camera.id}))
    return _collection(features)


def geofences_to_feature_collection(sites: Iterable[GeofenceSite]) -> JsonDict:
    """One Polygon feature per protected site (its outline, band and classification)."""
    features = []
    for site in sites:
        properties: JsonDict = {
            "kind": "geofence",
            "id": site.id,
            "name": site.name,
            "site_kind": site.kind,
            "classification": site.classification.value,
            "floor_m": site.floor_m,
            "ceiling_m": site.ceiling_m,
            "sigungu_code": site.sigungu_code,
        }
        features.append(_feature(site.id, geometry_to_geojson(Polygon(site.polygon)), properties))
    return _collection(features)
