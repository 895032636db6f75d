"""``/api/v1/users`` and ``/api/v1/agencies``: accounts and the agencies they belong to."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import Field, SecretStr

from hwarang.api.access import permit, refuse
from hwarang.api.rooms import AgenciesRoom, DatabaseRoom, Gate, GateRoom, UsersRoom
from hwarang.domain import Agency, Classification, DomainModel, Role, User
from hwarang.hub.identity.accounts import (
    InvalidAccountError,
    check_new_agency,
    check_new_user,
    list_users,
    manages,
)
from hwarang.hub.identity.users import UserStore
from hwarang.hub.sharing.policy import AccessDeniedError, Action

router = APIRouter(tags=["admin"])


class NewUser(DomainModel):
    """A user to create; the password is never echoed or logged."""

    username: str = Field(pattern=r"^[a-zA-Z0-9_.-]{1,64}$")
    display_name: str = Field(min_length=1, max_length=200)
    agency_code: str
    jurisdiction_code: str | None = Field(
        default=None, pattern=r"^(\d{2}|\d{5})$", description="Inside the agency's; omitted: the agency's."
    )
    roles: list[Role] = Field(min_length=1)
    clearance: Classification = Classification.RESTRICTED
    password: SecretStr = Field(description="At least 10 characters.")


class UserView(DomainModel):
    """A user and whether the account is disabled."""

    user: User
    disabled: bool


def _admin_target(gate: Gate, users: UserStore, admin: User, username: str, verb: str) -> User:
    target = users.get(username, include_disabled=True)
    if target is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"user {username!r} not found")
    if not manages(admin, target.jurisdiction_code):
        reason = f"{username} is outside your jurisdiction {admin.jurisdiction_code}"
        raise refuse(gate, admin, Action.USER_ADMIN, f"user:{username}", reason)
    if target.username == admin.username:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"you cannot {verb} your own account")
    return target


@router.get("/api/v1/users", response_model=list[UserView], summary="Users you manage")
def get_users(
    admin: Annotated[User, Depends(permit(Action.USER_ADMIN))],
    database: DatabaseRoom,
) -> list[UserView]:
    """Users inside the administrator's jurisdiction, by username."""
    return [
        UserView(user=user, disabled=disabled)
        for user, disabled in list_users(database)
        if manages(admin, user.jurisdiction_code)
    ]


@router.post(
    "/api/v1/users", response_model=User, status_code=status.HTTP_201_CREATED, summary="Create a user"
)
def create_user(
    body: NewUser,
    admin: Annotated[User, Depends(permit(Action.USER_ADMIN))],
    users: UsersRoom,
    agencies: AgenciesRoom,
    gate: GateRoom,
) -> User:
    """Create; 422 for an unknown agency or a jurisdiction outside it, 409 when the name is taken."""
    wanted = User(
        username=body.username,
        display_name=body.display_name,
        agency_code=body.agency_code,
        jurisdiction_code=body.jurisdiction_code,
        roles=tuple(body.roles),
        clearance=body.clearance,
    )
    password = body.password.get_secret_value()
    try:
        user = check_new_user(wanted, password, agencies, admin=admin)
    except InvalidAccountError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    except AccessDeniedError as exc:
        raise refuse(gate, admin, Action.USER_ADMIN, f"user:{body.username}", str(exc)) from None
    users.create(user, password, actor=admin.username)
    return user


@router.post("/api/v1/users/{username}/disable", response_model=UserView, summary="Disable a user")
def disable_user(
    username: str,
    admin: Annotated[User, Depends(permit(Action.USER_ADMIN))],
    users: UsersRoom,
    gate: GateRoom,
) -> UserView:
    """Disable (their tokens stop working at once); 404 unknown, 409 for yourself."""
    target = _admin_target(gate, users, admin, username, "disable")
    users.set_disabled(username, True, actor=admin.username)
    return UserView(user=target, disabled=True)


@router.post("/api/v1/users/{username}/enable", response_model=UserView, summary="Enable a user")
def enable_user(
    username: str,
    admin: Annotated[User, Depends(permit(Action.USER_ADMIN))],
    users: UsersRoom,
    gate: GateRoom,
) -> UserView:
    """Enable again; 404 unknown, 409 for yourself."""
    target = _admin_target(gate, users, admin, username, "enable")
    users.set_disabled(username, False, actor=admin.username)
    return UserView(user=target, disabled=False)


@router.post("/api/v1/users/{username}/unlock", response_model=UserView, summary="Unlock a user")
def unlock_user(
    username: str,
    admin: Annotated[User, Depends(permit(Action.USER_ADMIN))],
    users: UsersRoom,
    gate: GateRoom,
) -> UserView:
    """Clear a lockout after repeated failed logins (audited ``user.unlock``); 404 unknown, 409 yourself."""
    target = _admin_target(gate, users, admin, username, "unlock")
    users.unlock(username, actor=admin.username)
    stored = users.get(username, include_disabled=True)
    disabled = stored is not None and users.get(username) is None
    return UserView(user=target, disabled=disabled)


@router.get("/api/v1/agencies", response_model=list[Agency], summary="Registered agencies")
def get_agencies(
    _user: Annotated[User, Depends(permit(Action.INCIDENT_VIEW))],
    agencies: AgenciesRoom,
) -> list[Agency]:
    """Every agency (names, kinds and jurisdictions are not need-to-know: sharing dialogs list them)."""
    return agencies.list()


@router.post(
    "/api/v1/agencies",
    response_model=Agency,
    status_code=status.HTTP_201_CREATED,
    summary="Register or update an agency",
)
def post_agency(
    agency: Agency,
    admin: Annotated[User, Depends(permit(Action.USER_ADMIN))],
    agencies: AgenciesRoom,
    gate: GateRoom,
) -> Agency:
    """Register (or replace) an agency inside the administrator's jurisdiction; audited."""
    try:
        check_new_agency(agency, agencies.get(agency.code), admin=admin)
    except AccessDeniedError as exc:
        raise refuse(gate, admin, Action.USER_ADMIN, f"agency:{agency.code}", str(exc)) from None
    agencies.upsert([agency], actor=admin.username)
    return agency
