"""Authentication: password login with lockout, short-lived JWTs with rotating refresh tokens,
optional OIDC tokens of agencies' own identity providers, and the per-route access dependencies."""

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from hwarang.api.clientaddr import connection_client
from hwarang.api.context import ApiContext, get_context
from hwarang.api.denials import remember_user
from hwarang.api.oidc import OidcKeysUnavailableError
from hwarang.api.rooms import RefreshTokensRoom, UsersRoom
from hwarang.api.settings import ApiSettings
from hwarang.api.tokens import ISSUER, TokenError, unverified_issuer
from hwarang.domain import Role, User
from hwarang.hub.identity.refresh_tokens import IssuedRefreshToken, RefreshTokenError
from hwarang.hub.identity.users import LockoutPolicy

logger = logging.getLogger(__name__)

TOKEN_PATH = "/api/v1/auth/token"
REFRESH_PATH = "/api/v1/auth/refresh"
LOGOUT_PATH = "/api/v1/auth/logout"
ME_PATH = "/api/v1/auth/me"
PASSWORD_PATH = "/api/v1/auth/password"
_MAX_LOGGED_NAME = 64
_MAX_REFRESH_TOKEN = 256
_FAILED = "incorrect username or password"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_PATH, refreshUrl=REFRESH_PATH, auto_error=False)
router = APIRouter(tags=["auth"])


class TokenResponse(BaseModel):
    """An issued access token and the refresh token that renews it (RFC 6749 section 5.1)."""

    access_token: str
    token_type: str = Field(default="bearer")
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Opaque; exchange at /api/v1/auth/refresh. Usable once.")
    refresh_expires_in: int = Field(description="Seconds until the refresh token (the login) expires.")


class RefreshRequest(BaseModel):
    """A refresh token to exchange or revoke."""

    refresh_token: str = Field(min_length=1, max_length=_MAX_REFRESH_TOKEN)


class LogoutRequest(BaseModel):
    """What to revoke: one refresh token, or (when absent) every refresh token of the user."""

    refresh_token: str | None = Field(default=None, min_length=1, max_length=_MAX_REFRESH_TOKEN)


class LogoutResponse(BaseModel):
    """How many refresh tokens were revoked."""

    revoked: int = Field(ge=0)


def _unauthorized(detail: str, *, invalid_token: bool = False) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge})


def client_host(request: Request) -> str:
    """The client address of a request, for audit records and throttling.

    The TCP peer, or the address ``X-Forwarded-For`` names when the peer is one of the
    configured ``trusted_proxies``.
    """
    return connection_client(request, get_context(request).settings.trusted_proxies)


def login_policy(settings: ApiSettings) -> LockoutPolicy:
    """The account lock the settings ask for."""
    return LockoutPolicy(
        settings.lockout_max_failures,
        timedelta(minutes=settings.lockout_minutes),
        known_address_for=timedelta(days=settings.known_address_days),
    )


def refuse_if_throttled(context: ApiContext, address: str) -> None:
    """429 with ``Retry-After`` when ``address`` must still wait after failed logins."""
    wait = context.throttle.wait_s(address)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many failed logins from your address; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


def _token_response(context: ApiContext, user: User, refresh: IssuedRefreshToken) -> TokenResponse:
    remaining = refresh.expires_at - datetime.now(UTC)
    return TokenResponse(
        access_token=context.tokens.issue(user),
        expires_in=context.tokens.ttl_s,
        refresh_token=refresh.token,
        refresh_expires_in=max(0, int(remaining.total_seconds())),
    )


@router.post(
    TOKEN_PATH,
    response_model=TokenResponse,
    summary="Log in (OAuth2 password flow)",
    responses={
        401: {"description": "Wrong credentials, or the account is locked."},
        429: {"description": "Too many failed logins from this address; wait Retry-After seconds."},
    },
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    context: Annotated[ApiContext, Depends(get_context)],
    users: UsersRoom,
) -> TokenResponse:
    """Exchange a username and password for an access and a refresh token; 401 otherwise.

    A client address that failed ``login_free_failures`` times in a row must wait (doubling with
    each further failure) and is answered 429 with ``Retry-After`` meanwhile, before any password
    is looked at. After ``lockout_max_failures`` wrong passwords in a row the account refuses
    logins for ``lockout_minutes``, except from addresses it logged in from successfully within
    ``known_address_days``. Every attempt is audited.
    """
    settings = context.settings
    address = client_host(request)
    refuse_if_throttled(context, address)
    outcome = users.login(
        form.username,
        form.password,
        policy=login_policy(settings),
        refresh_ttl=timedelta(seconds=settings.refresh_ttl_s),
        client=address,
    )
    if outcome.user is None:
        context.throttle.failed(address)
    else:
        context.throttle.succeeded(address)
    if outcome.locked_until is not None:
        wait_s = max(1, int((outcome.locked_until - datetime.now(UTC)).total_seconds()))
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=(
                "account locked after repeated failed logins; try again after "
                f"{outcome.locked_until.isoformat(timespec='seconds')}"
            ),
            headers={"WWW-Authenticate": "Bearer", "Retry-After": str(wait_s)},
        )
    if outcome.user is None or outcome.refresh is None:
        logger.info("login failed for %r from %s", form.username[:_MAX_LOGGED_NAME], address)
        raise _unauthorized(_FAILED)
    logger.info("login of %s from %s", outcome.user.username, client_host(request))
    return _token_response(context, outcome.user, outcome.refresh)


@router.post(
    REFRESH_PATH,
    response_model=TokenResponse,
    summary="Renew the access token with a refresh token",
    responses={401: {"description": "The refresh token is unknown, expired, revoked or reused."}},
)
def refresh_token(
    request: Request, body: RefreshRequest, context: Annotated[ApiContext, Depends(get_context)]
) -> TokenResponse:
    """A new access token and a new refresh token; the one presented becomes unusable.

    Presenting a refresh token that was already exchanged revokes every refresh token of its
    user (someone else holds a copy) and is audited as ``auth.refresh_reuse``.
    """
    try:
        issued = context.service.identity.refresh_tokens.rotate(
            body.refresh_token, client=client_host(request)
        )
    except RefreshTokenError as exc:
        raise _unauthorized(str(exc), invalid_token=True) from exc
    user = context.service.identity.users.get(issued.username)
    if user is None:
        raise _unauthorized(f"user {issued.username!r} no longer exists or is disabled", invalid_token=True)
    return _token_response(context, user, issued)


def token_verifies(context: ApiContext, token: str) -> bool:
    """True when ``token`` is a valid hub token, or names an accepted OIDC issuer (cheap: no lookups).

    Used to size the request body allowed before authentication; the route still authenticates.
    """
    try:
        issuer = unverified_issuer(token)
        if issuer != ISSUER:
            return context.oidc is not None and context.oidc.accepts(str(issuer))
        context.tokens.verify(token)
    except TokenError:
        return False
    return True


def user_from_token(context: ApiContext, token: str | None) -> User:
    """The active user a bearer token belongs to; raise ``TokenError`` otherwise (blocking: DB lookup).

    Hwarang's own tokens are checked against the signing key and the user store; tokens whose
    ``iss`` is a configured OIDC provider are checked against that provider's keys.
    """
    if not token:
        raise TokenError("not authenticated")
    issuer = unverified_issuer(token)
    oidc = context.oidc
    if issuer != ISSUER:
        if oidc is not None and oidc.accepts(issuer):
            return _oidc_user(context, token, str(issuer))
        raise TokenError(f"invalid token: issuer {issuer!r} is not accepted")
    claims = context.tokens.verify(token)
    user = context.service.identity.users.get(claims.subject)
    if user is None:
        raise TokenError(f"user {claims.subject!r} no longer exists or is disabled")
    return user


def _oidc_user(context: ApiContext, token: str, issuer: str) -> User:
    oidc = context.oidc
    if oidc is None:
        raise TokenError("OIDC is not enabled")
    identity = oidc.verify(token, issuer)
    service = context.service
    local = service.identity.users.get(identity.username, include_disabled=True) is not None
    user = oidc.to_user(identity, service.identity.agencies.get(identity.agency_code), local_account=local)
    if oidc.first_use(identity):
        detail: dict[str, object] = {
            "method": "oidc",
            "issuer": identity.issuer,
            "subject": identity.subject,
            "token": identity.token_id,
            "roles": [role.value for role in user.roles],
        }
        service.audit.record(user.username, "auth.login", f"user:{user.username}", detail)
        logger.info("OIDC login of %s (%s) from %s", user.username, identity.subject, identity.issuer)
    return user


def require_user(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    context: Annotated[ApiContext, Depends(get_context)],
) -> User:
    """The logged-in user (current roles from the store, not the token); 401 otherwise."""
    if token is None:
        raise _unauthorized("not authenticated")
    try:
        user = user_from_token(context, token)
        remember_user(request, user)
        return user
    except OidcKeysUnavailableError as exc:
        logger.warning("OIDC token refused: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    except TokenError as exc:
        raise _unauthorized(str(exc), invalid_token=True) from exc


@router.post(LOGOUT_PATH, response_model=LogoutResponse, summary="Log out: revoke refresh tokens")
def logout(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    refresh_tokens: RefreshTokensRoom,
    body: LogoutRequest | None = None,
) -> LogoutResponse:
    """Revoke the given refresh token, or every refresh token of the user when none is given.

    Access tokens already issued stay valid until they expire (``token_ttl_s``); audited
    as ``auth.logout``.
    """
    token = None if body is None else body.refresh_token
    revoked = refresh_tokens.revoke(user.username, token, client=client_host(request))
    return LogoutResponse(revoked=revoked)


class PasswordChange(BaseModel):
    """The current password and the new one (10 to 256 characters, not the user name)."""

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordChanged(BaseModel):
    """The password was changed; the user's refresh tokens were revoked."""

    changed: bool = True


@router.post(
    PASSWORD_PATH,
    response_model=PasswordChanged,
    summary="Change your own password",
    responses={
        403: {"description": "The current password is wrong."},
        409: {"description": "The account's password is kept by an external identity provider."},
        422: {"description": "The new password breaks the password rule."},
        429: {"description": "Too many failed attempts from this address."},
    },
)
def change_password(
    request: Request,
    body: PasswordChange,
    user: Annotated[User, Depends(require_user)],
    context: Annotated[ApiContext, Depends(get_context)],
    users: UsersRoom,
) -> PasswordChanged:
    """Set a new password after checking the current one (audited ``user.password_change``).

    Other sessions end at their next renewal (refresh tokens revoked). Wrong current passwords
    count towards the address's login throttle.
    """
    address = client_host(request)
    refuse_if_throttled(context, address)
    if users.get(user.username, include_disabled=True) is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="your password is kept by your agency's identity provider"
        )
    if not users.change_password(user.username, body.current_password, body.new_password, client=address):
        context.throttle.failed(address)
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="the current password is wrong")
    return PasswordChanged()


@router.get(ME_PATH, response_model=User, summary="The user the bearer token stands for")
def who_am_i(user: Annotated[User, Depends(require_user)]) -> User:
    """Name, agency, jurisdiction, roles and clearance as the hub sees them now."""
    return user


def require_roles(*roles: Role) -> Callable[[User], User]:
    """A dependency admitting users holding at least one of ``roles`` (403 otherwise)."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    wanted = frozenset(roles)

    def _check(user: Annotated[User, Depends(require_user)]) -> User:
        if wanted.isdisjoint(user.roles):
            names = ", ".join(sorted(str(role) for role in wanted))
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"requires one of the roles: {names}")
        return user

    return _check
