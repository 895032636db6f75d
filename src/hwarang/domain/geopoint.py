"""WGS84 positions."""

from pydantic import BaseModel, ConfigDict, Field


class GeoPoint(BaseModel):
    """A WGS84 position in degrees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90.0, le=90.0, description="Latitude in degrees (WGS84).")
    lon: float = Field(ge=-180.0, le=180.0, description="Longitude in degrees (WGS84).")
