"""Spherical-earth helpers: distances, destinations and a local metric tangent plane.

A sphere of the mean earth radius is accurate to about 0.5 % in distance, far better than
camera geometry needs; inside a local tangent plane a few hundred metres across the
equirectangular approximation errs by well under a millimetre.
"""

import math

from hwarang.domain import GeoPoint
from hwarang.geo.errors import GeoError

EARTH_RADIUS_M = 6_371_008.8
"""Mean earth radius (IUGG), metres."""


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points, in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2.0) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def initial_bearing_deg(a: GeoPoint, b: GeoPoint) -> float:
    """Bearing from ``a`` towards ``b`` at ``a``, degrees clockwise from north in [0, 360)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlon = math.radians(b.lon - a.lon)
    y = math.sin(dlon) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination(point: GeoPoint, bearing_deg: float, distance_m: float) -> GeoPoint:
    """The point reached from ``point`` after ``distance_m`` metres along ``bearing_deg`` (from north)."""
    if not (math.isfinite(bearing_deg) and math.isfinite(distance_m)):
        raise GeoError(f"destination needs finite bearing and distance, got {bearing_deg!r}, {distance_m!r}")
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    lat1, lon1 = math.radians(point.lat), math.radians(point.lon)
    sin_lat2 = math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(theta)
    lat2 = math.asin(max(-1.0, min(1.0, sin_lat2)))
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(lat1),
        math.cos(delta) - math.sin(lat1) * sin_lat2,
    )
    lon_deg = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return GeoPoint(lat=math.degrees(lat2), lon=lon_deg)


class TangentPlane:
    """Equirectangular east/north metres around an origin (for areas up to a few kilometres)."""

    def __init__(self, origin: GeoPoint) -> None:
        self.origin = origin
        self._m_per_deg_lat = math.radians(1.0) * EARTH_RADIUS_M
        self._m_per_deg_lon = self._m_per_deg_lat * math.cos(math.radians(origin.lat))
        if self._m_per_deg_lon < 1e-6:
            raise GeoError(f"no east/north tangent plane at a pole: origin {origin.lat}, {origin.lon}")

    def to_local(self, point: GeoPoint) -> tuple[float, float]:
        """East and north metres of ``point`` from the origin."""
        dlon = (point.lon - self.origin.lon + 540.0) % 360.0 - 180.0
        return dlon * self._m_per_deg_lon, (point.lat - self.origin.lat) * self._m_per_deg_lat

    def to_geo(self, east_m: float, north_m: float) -> GeoPoint:
        """The position ``east_m``/``north_m`` metres from the origin; GeoError if off the globe."""
        lat = self.origin.lat + north_m / self._m_per_deg_lat
        lon = (self.origin.lon + east_m / self._m_per_deg_lon + 540.0) % 360.0 - 180.0
        if not (math.isfinite(lat) and -90.0 <= lat <= 90.0 and math.isfinite(lon)):
            raise GeoError(f"local offset ({east_m:.1f} m E, {north_m:.1f} m N) leaves the globe")
        return GeoPoint(lat=lat, lon=lon)
