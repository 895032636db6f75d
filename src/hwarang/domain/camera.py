"""Control centers and their cameras."""

from pydantic import Field, model_validator

from hwarang.domain.base import DomainModel
from hwarang.domain.geopoint import GeoPoint

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Calibration(DomainModel):
    """Ground-plane correspondences from image pixels to map positions (at least four)."""

    image_points: tuple[tuple[float, float], ...] = Field(description="Pixel (x, y) points on the ground.")
    geo_points: tuple[GeoPoint, ...] = Field(description="The map position of each image point.")

    @model_validator(mode="after")
    def _check_pairs(self) -> "Calibration":
        if len(self.image_points) != len(self.geo_points):
            raise ValueError(
                f"calibration needs one geo point per image point: got {len(self.image_points)} "
                f"image points and {len(self.geo_points)} geo points"
            )
        if len(self.image_points) < 4:
            raise ValueError(f"calibration needs at least 4 point pairs, got {len(self.image_points)}")
        return self


class Center(DomainModel):
    """An integrated CCTV control center of one local government."""

    id: str = Field(pattern=_SLUG, description="Center identifier, used in bus subjects.")
    name: str
    sido_code: str = Field(pattern=r"^\d{2}$")
    sigungu_code: str = Field(pattern=r"^\d{5}$")
    position: GeoPoint | None = None


class Camera(DomainModel):
    """A fixed camera: where it is, where it looks, and how pixels map to the ground."""

    id: str = Field(pattern=_SLUG, description="Camera identifier, unique across the nation.")
    center_id: str = Field(pattern=_SLUG)
    name: str
    position: GeoPoint
    heading_deg: float = Field(default=0.0, ge=0.0, lt=360.0, description="View direction, from north.")
    fov_deg: float = Field(default=60.0, gt=0.0, le=360.0, description="Horizontal field of view.")
    range_m: float = Field(default=80.0, gt=0.0, description="Useful viewing distance in metres.")
    calibration: Calibration | None = None
    sido_code: str = Field(pattern=r"^\d{2}$")
    sigungu_code: str = Field(pattern=r"^\d{5}$")
