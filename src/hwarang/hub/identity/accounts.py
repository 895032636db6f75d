"""Account administration: list users, and check a new user or agency against who is asking.

The API's admin routes and ``hwarang users`` / ``hwarang agencies`` share these rules:

* a user belongs to a registered agency, and their jurisdiction lies inside the agency's
  (omitted: the agency's own);
* a regional administrator manages only users and agencies inside their jurisdiction.
"""

import re

from sqlalchemy import select

from hwarang.domain import Agency, User
from hwarang.hub.errors import HubError
from hwarang.hub.identity.agencies import AgencyStore
from hwarang.hub.identity.passwords import InvalidPasswordError, check_password
from hwarang.hub.identity.users import user_from_row
from hwarang.hub.sharing.policy import AccessDeniedError, in_area
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import UserRow

_AREA = re.compile(r"^(\d{2}|\d{5})$")


class InvalidAccountError(HubError, ValueError):
    """A user or agency that cannot be created as asked (HTTP 422); the message says why."""


def list_users(database: Database, *, include_disabled: bool = True) -> list[tuple[User, bool]]:
    """Every user with whether it is disabled, by username."""
    stmt = select(UserRow).order_by(UserRow.username)
    if not include_disabled:
        stmt = stmt.where(UserRow.disabled.is_(False))
    with database.session() as session:
        return [(user_from_row(row), row.disabled) for row in session.scalars(stmt)]


def manages(admin: User | None, area: str | None) -> bool:
    """True when ``admin`` (None: the command line, unrestricted) may manage accounts of ``area``."""
    if admin is None or admin.jurisdiction_code is None:
        return True
    return area is not None and in_area(area, admin.jurisdiction_code)


def check_new_user(user: User, password: str, agencies: AgencyStore, *, admin: User | None) -> User:
    """The user to store (jurisdiction defaulted to the agency's); raise when it may not be created."""
    try:
        check_password(password, user.username)
    except InvalidPasswordError as exc:
        raise InvalidAccountError(str(exc)) from None
    if user.jurisdiction_code is not None and not _AREA.fullmatch(user.jurisdiction_code):
        raise InvalidAccountError(
            f"jurisdiction of {user.username} must be a 2-digit sido or 5-digit sigungu code, "
            f"got {user.jurisdiction_code!r}"
        )
    agency = agencies.get(user.agency_code)
    if agency is None:
        known = ", ".join(a.code for a in agencies.list()) or "none"
        raise InvalidAccountError(f"agency {user.agency_code!r} is not registered (known: {known})")
    jurisdiction = user.jurisdiction_code or agency.jurisdiction_code
    if agency.jurisdiction_code is not None and (
        jurisdiction is None or not in_area(jurisdiction, agency.jurisdiction_code)
    ):
        raise InvalidAccountError(
            f"jurisdiction {jurisdiction or 'nationwide'} of {user.username} is outside agency "
            f"{agency.code}'s jurisdiction {agency.jurisdiction_code}"
        )
    if admin is not None and not manages(admin, jurisdiction):
        raise AccessDeniedError(
            f"{admin.username} manages accounts in {admin.jurisdiction_code} only, not "
            f"{jurisdiction or 'nationwide'}"
        )
    return user.model_copy(update={"jurisdiction_code": jurisdiction})


def check_new_agency(agency: Agency, existing: Agency | None, *, admin: User | None) -> None:
    """Raise AccessDeniedError when ``admin`` may not register ``agency`` (or replace ``existing``)."""
    if admin is None:
        return
    for area in (agency.jurisdiction_code, *(() if existing is None else (existing.jurisdiction_code,))):
        if not manages(admin, area):
            raise AccessDeniedError(
                f"{admin.username} manages agencies in {admin.jurisdiction_code} only, not "
                f"{area or 'nationwide'} (agency {agency.code})"
            )
