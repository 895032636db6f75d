"""Administrative regions (sido, local governments) and Hwarang exercise zones."""

from typing import Literal

from pydantic import Field

from hwarang.domain.base import DomainModel

RegionLevel = Literal["sido", "sigungu"]


class Region(DomainModel):
    """A province-level unit (sido) or a local government inside one (sigungu)."""

    code: str = Field(
        pattern=r"^\d{2}(\d{3})?$", description="Administrative code: 2 digits sido, 5 sigungu."
    )
    name: str = Field(min_length=1, description="Korean name, e.g. 서울특별시 or 중구.")
    level: RegionLevel
    parent_code: str | None = Field(default=None, description="Sido code of a sigungu; None for a sido.")


class ExerciseZone(DomainModel):
    """One of the Hwarang exercise zones: a group of sido exercised together."""

    id: int = Field(ge=1, description="Zone number.")
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    sido_codes: tuple[str, ...] = Field(min_length=1, description="Sido codes in this zone.")


class AdminLocation(DomainModel):
    """Where a point lies: its sido, local government and exercise zone."""

    sido_code: str
    sido_name: str
    sigungu_code: str | None = None
    sigungu_name: str | None = None
    zone_id: int | None = None
    zone_name: str | None = None
