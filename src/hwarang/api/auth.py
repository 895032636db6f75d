"""Authentication: OAuth2 password flow issuing JWTs, and the per-route access dependencies."""

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from hwarang.api.context import ApiContext, get_context
from hwarang.api.tokens import TokenError
from hwarang.domain import Role, User

logger = logging.getLogger(__name__)

TOKEN_PATH = "/api/v1/auth/token"
_MAX_LOGGED_NAME = 64

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_PATH, auto_error=False)
router = APIRouter(tags=["auth"])


class TokenResponse(BaseModel):
    """An issued access token (RFC 6749 section 5.1)."""

    access_token: str
    token_type: str = Field(default="bearer")
    expires_in: int = Field(description="Seconds until the token expires.")


def _unauthorized(detail: str, *, invalid_token: bool = False) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge})


def client_host(request: Request) -> str:
    """The peer address of a request, for audit records."""
    return request.client.host if request.client is not None else "unknown"


@router.post(TOKEN_PATH, response_model=TokenResponse, summary="Log in (OAuth2 password flow)")
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    context: Annotated[ApiContext, Depends(get_context)],
) -> TokenResponse:
    """Exchange a username and password for a bearer token; 401 on bad credentials."""
    name = form.username[:_MAX_LOGGED_NAME]
    detail: dict[str, object] = {"client": client_host(request)}
    user = context.service.authenticate(form.username, form.password)
    if user is None:
        logger.info("login failed for %r from %s", name, detail["client"])
        context.service.audit(name, "auth.login_failed", f"user:{name}", detail)
        raise _unauthorized("incorrect username or password")
    token = context.tokens.issue(user)
    logger.info("login of %s from %s", user.username, detail["client"])
    context.service.audit(user.username, "auth.login", f"user:{user.username}", detail)
    return TokenResponse(access_token=token, expires_in=context.tokens.ttl_s)


def user_from_token(context: ApiContext, token: str | None) -> User:
    """The active user a bearer token belongs to; raise ``TokenError`` otherwise (blocking: DB lookup)."""
    if not token:
        raise TokenError("not authenticated")
    claims = context.tokens.verify(token)
    user = context.service.get_user(claims.subject)
    if user is None:
        raise TokenError(f"user {claims.subject!r} no longer exists or is disabled")
    return user


def require_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    context: Annotated[ApiContext, Depends(get_context)],
) -> User:
    """The logged-in user (current roles from the store, not the token); 401 otherwise."""
    if token is None:
        raise _unauthorized("not authenticated")
    try:
        return user_from_token(context, token)
    except TokenError as exc:
        raise _unauthorized(str(exc), invalid_token=True) from exc


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
