"""Agencies and users."""

from pydantic import Field

from hwarang.domain.base import DomainModel
from hwarang.domain.enums import AgencyKind, Classification, Role


class Agency(DomainModel):
    """An organisation taking part in integrated defense."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str
    kind: AgencyKind
    jurisdiction_code: str | None = Field(
        default=None, pattern=r"^(\d{2}|\d{5})$", description="Sido or sigungu code; None: nationwide."
    )


class User(DomainModel):
    """A person who logs in, with their agency, jurisdiction and roles."""

    username: str = Field(pattern=r"^[a-zA-Z0-9_.-]{1,64}$")
    display_name: str
    agency_code: str
    jurisdiction_code: str | None = Field(
        default=None, description="Sido or sigungu code; None means the whole nation."
    )
    roles: tuple[Role, ...] = Field(min_length=1)
    clearance: Classification = Field(
        default=Classification.RESTRICTED, description="Highest classification the user may read."
    )
