"""Refresh tokens: opaque secrets, stored only as SHA-256, rotated on every use.

A token reads ``<id>.<secret>``; the row keyed by ``id`` holds the SHA-256 of the whole token.
Rotation keeps the first token's expiry, so a login lasts at most the refresh lifetime however
often it is refreshed. Presenting a token that was already rotated means two parties hold it (a
stolen copy): every refresh token of that user is revoked and the reuse is audited.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hwarang.hub.errors import HubError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import RefreshTokenRow, UserRow

logger = logging.getLogger(__name__)

_ID_BYTES = 16
_SECRET_BYTES = 32
_MAX_TOKEN_LEN = 256


class RefreshTokenError(HubError):
    """A refresh token is unknown, expired, revoked or reused; the message says which."""


@dataclass(frozen=True, slots=True)
class IssuedRefreshToken:
    """A new refresh token: ``token`` goes to the client once and is never stored."""

    token: str
    token_id: str
    username: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_id(token: str) -> str:
    if len(token) > _MAX_TOKEN_LEN or token.count(".") != 1:
        raise RefreshTokenError("malformed refresh token")
    token_id, secret = token.split(".")
    if not token_id or not secret:
        raise RefreshTokenError("malformed refresh token")
    return token_id


def add_refresh_token(
    session: Session, username: str, expires_at: datetime, *, now: datetime
) -> IssuedRefreshToken:
    """Add a fresh refresh token of ``username`` to ``session`` (committed with the caller's change)."""
    token_id = secrets.token_hex(_ID_BYTES)
    token = f"{token_id}.{secrets.token_urlsafe(_SECRET_BYTES)}"
    session.add(
        RefreshTokenRow(
            id=token_id,
            username=username,
            token_hash=_digest(token),
            issued_at=now,
            expires_at=expires_at,
            revoked_at=None,
            replaced_by=None,
        )
    )
    return IssuedRefreshToken(token=token, token_id=token_id, username=username, expires_at=expires_at)


def revoke_user_refresh_tokens(session: Session, username: str, *, now: datetime) -> int:
    """Revoke every live refresh token of ``username`` in ``session``; the number revoked."""
    result = session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.username == username, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class RefreshTokenStore:
    """Issues, rotates and revokes refresh tokens; every change is audited in its transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def issue(self, username: str, ttl: timedelta, *, now: datetime | None = None) -> IssuedRefreshToken:
        """A new refresh token of ``username`` valid for ``ttl`` (login does this itself)."""
        at = now or datetime.now(UTC)
        with self._db.session(write=True) as session:
            return add_refresh_token(session, username, at + ttl, now=at)

    def rotate(
        self, token: str, *, client: str = "unknown", now: datetime | None = None
    ) -> IssuedRefreshToken:
        """Exchange ``token`` for a new one (same expiry); the old one is revoked.

        Raises :class:`RefreshTokenError` when the token is malformed, unknown, expired, revoked,
        or its user is gone or disabled. A rotated token presented again revokes all of its
        user's refresh tokens (audited as ``auth.refresh_reuse``) before the error is raised.
        """
        at = now or datetime.now(UTC)
        token_id = _token_id(token)
        failure: str | None = None
        issued: IssuedRefreshToken | None = None
        with self._db.session(write=True) as session:
            row = session.get(RefreshTokenRow, token_id, with_for_update=True)
            if row is None or not hmac.compare_digest(row.token_hash, _digest(token)):
                failure = "unknown refresh token"
            elif row.revoked_at is not None:
                failure = self._refuse_revoked(session, row, client=client, now=at)
            elif row.expires_at <= at:
                failure = "refresh token expired; log in again"
            else:
                user = session.get(UserRow, row.username)
                if user is None or user.disabled:
                    row.revoked_at = at
                    failure = f"user {row.username!r} no longer exists or is disabled"
                else:
                    issued = add_refresh_token(session, row.username, row.expires_at, now=at)
                    row.revoked_at = at
                    row.replaced_by = issued.token_id
                    detail: dict[str, Any] = {"client": client, "replaces": row.id, "token": issued.token_id}
                    add_audit(session, row.username, "auth.refresh", f"user:{row.username}", detail)
        if issued is None:
            raise RefreshTokenError(failure or "refresh token refused")
        return issued

    def _refuse_revoked(self, session: Session, row: RefreshTokenRow, *, client: str, now: datetime) -> str:
        if row.replaced_by is None:
            return "refresh token revoked; log in again"
        revoked = revoke_user_refresh_tokens(session, row.username, now=now)
        detail: dict[str, Any] = {"client": client, "token": row.id, "revoked": revoked}
        add_audit(session, row.username, "auth.refresh_reuse", f"user:{row.username}", detail)
        logger.warning(
            "refresh token %s of %s reused from %s: revoked %s live refresh tokens of the user",
            row.id,
            row.username,
            client,
            revoked,
        )
        return "refresh token already used; every session of this user was revoked, log in again"

    def revoke(self, username: str, token: str | None = None, *, client: str = "unknown") -> int:
        """Log out: revoke ``token`` (it must be ``username``'s) or, without one, all of theirs.

        Audited as ``auth.logout``; returns how many tokens were revoked (0 for a token that is
        unknown, already revoked or someone else's).
        """
        at = datetime.now(UTC)
        with self._db.session(write=True) as session:
            if token is None:
                revoked = revoke_user_refresh_tokens(session, username, now=at)
                scope = "all"
            else:
                revoked = self._revoke_one(session, username, token, now=at)
                scope = "token"
            detail: dict[str, Any] = {"client": client, "scope": scope, "revoked": revoked}
            add_audit(session, username, "auth.logout", f"user:{username}", detail)
        return revoked

    def _revoke_one(self, session: Session, username: str, token: str, *, now: datetime) -> int:
        try:
            token_id = _token_id(token)
        except RefreshTokenError:
            return 0
        row = session.get(RefreshTokenRow, token_id, with_for_update=True)
        if row is None or row.username != username or row.revoked_at is not None:
            return 0
        if not hmac.compare_digest(row.token_hash, _digest(token)):
            return 0
        row.revoked_at = now
        return 1

    def active_count(self, username: str, *, now: datetime | None = None) -> int:
        """How many unexpired, unrevoked refresh tokens ``username`` holds."""
        at = now or datetime.now(UTC)
        stmt = (
            select(func.count())
            .select_from(RefreshTokenRow)
            .where(
                RefreshTokenRow.username == username,
                RefreshTokenRow.revoked_at.is_(None),
                RefreshTokenRow.expires_at > at,
            )
        )
        with self._db.session() as session:
            return int(session.scalar(stmt) or 0)
