"""WGS84 positions."""

from pydantic import Field

from hwarang.domain.base import ValueModel


class GeoPoint(ValueModel):
    """A WGS84 position in degrees."""

    lat: float = Field(ge=-90.0, le=90.0, description="Latitude in degrees (WGS84).")
    lon: float = Field(ge=-180.0, le=180.0, description="Longitude in degrees (WGS84).")
