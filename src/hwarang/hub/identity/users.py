"""User accounts: argon2id password hashes, login with lockout, the first admin."""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hwarang.domain import Classification, Role, User
from hwarang.hub.errors import ConflictError
from hwarang.hub.evidence.audit import add_audit
from hwarang.hub.identity.passwords import InvalidPasswordError, check_password, generate_password
from hwarang.hub.identity.refresh_tokens import (
    IssuedRefreshToken,
    add_refresh_token,
    revoke_user_refresh_tokens,
)
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import AuditRow, UserRow

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
ADMIN_AGENCY = "idhq"
_MAX_LOGGED_NAME = 64
_KNOWN_ADDRESS_SCAN = 200


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After ``max_failures`` wrong passwords in a row, refuse every login for ``lock_for``."""

    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)
    known_address_for: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, got {self.max_failures}")
        if self.lock_for <= timedelta(0):
            raise ValueError(f"lock_for must be positive, got {self.lock_for}")


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """What a login attempt gave: the user (None when refused), why not, and a refresh token.

    ``locked_until`` is set when the account is locked; callers tell the client it is locked
    without saying whether this attempt's password was right.
    """

    user: User | None
    reason: str = "ok"
    locked_until: datetime | None = None
    refresh: IssuedRefreshToken | None = None


def user_from_row(row: UserRow) -> User:
    """The frozen domain user of a row (the password hash stays behind)."""
    return User(
        username=row.username,
        display_name=row.display_name,
        agency_code=row.agency_code,
        jurisdiction_code=row.jurisdiction_code,
        roles=tuple(Role(r) for r in row.roles),
        clearance=Classification(row.clearance),
    )


class UserStore:
    """Creates users and checks their passwords.

    ``hasher`` defaults to argon2-cffi's recommended parameters; tests pass a cheaper one.
    """

    def __init__(self, database: Database, hasher: PasswordHasher | None = None) -> None:
        self._db = database
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def create(self, user: User, password: str, *, actor: str = "system", disabled: bool = False) -> None:
        """Store ``user`` with the hash of ``password``; ConflictError if the name is taken."""
        if not password:
            raise ValueError(f"password for user {user.username!r} must not be empty")
        row = UserRow(
            username=user.username,
            display_name=user.display_name,
            agency_code=user.agency_code,
            jurisdiction_code=user.jurisdiction_code,
            roles=[r.value for r in user.roles],
            clearance=user.clearance.value,
            password_hash=self._hasher.hash(password),
            disabled=disabled,
            created_at=datetime.now(UTC),
        )
        try:
            with self._db.session(write=True) as session:
                session.add(row)
                session.flush()
                detail = {"agency": user.agency_code, "roles": row.roles}
                add_audit(session, actor, "user.create", user.username, detail)
        except IntegrityError:
            raise ConflictError(f"user {user.username!r} already exists") from None
        logger.info("user %s created by %s", user.username, actor)

    def get(self, username: str, *, include_disabled: bool = False) -> User | None:
        """The user, or None when there is no such user or it is disabled (unless asked for)."""
        with self._db.session() as session:
            row = session.get(UserRow, username)
            if row is None or (row.disabled and not include_disabled):
                return None
            return user_from_row(row)

    def set_disabled(self, username: str, disabled: bool, *, actor: str = "system") -> bool:
        """Disable or re-enable a user; False when the user does not exist.

        Disabling also revokes the user's refresh tokens in the same transaction.
        """
        with self._db.session(write=True) as session:
            row = session.get(UserRow, username)
            if row is None:
                return False
            row.disabled = disabled
            detail: dict[str, Any] = {}
            if disabled:
                detail["refresh_tokens_revoked"] = revoke_user_refresh_tokens(
                    session, username, now=datetime.now(UTC)
                )
            add_audit(session, actor, "user.disable" if disabled else "user.enable", username, detail)
        return True

    def unlock(self, username: str, *, actor: str = "system") -> bool:
        """Clear a lockout and the failure count (audited ``user.unlock``); False for no such user."""
        with self._db.session(write=True) as session:
            row = session.get(UserRow, username)
            if row is None:
                return False
            row.failed_logins = 0
            row.locked_until = None
            add_audit(session, actor, "user.unlock", username)
        return True

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when ``password`` is right, the account enabled and not locked; None otherwise.

        The same as :meth:`login` with the default lockout policy and no refresh token.
        """
        return self.login(username, password).user

    def login(
        self,
        username: str,
        password: str,
        *,
        policy: LockoutPolicy | None = None,
        refresh_ttl: timedelta | None = None,
        client: str = "unknown",
        now: datetime | None = None,
    ) -> LoginOutcome:
        """Check a password, count failures, lock after too many, and issue a refresh token.

        Every attempt is audited in the transaction that updates the counters: ``auth.login``,
        ``auth.login_failed`` (detail ``reason``: unknown_user, bad_password, disabled, locked) and
        ``auth.locked`` when this failure locks the account. Unknown users and locked accounts
        still cost one hash verification, so timing reveals neither. A locked account is refused
        without looking at the password, except from an address the account logged in from
        successfully within ``policy.known_address_for``: a lock stops strangers, not the real user.
        ``refresh_ttl`` set: a refresh token is issued on success.
        """
        policy = policy or LockoutPolicy()
        at = now or datetime.now(UTC)
        with self._db.session() as session:
            row = session.get(UserRow, username)
            stored = None if row is None else row.password_hash
            locked_until = None if row is None else row.locked_until
        known = False
        if locked_until is not None and locked_until > at:
            known = self._known_address(username, client, at - policy.known_address_for)
            if not known:
                self._verify(None, password)  # same cost as a real check
                with self._db.session(write=True) as session:
                    self._add_failure_audit(session, username, "locked", client)
                logger.info("login refused for locked user %s until %s", username, locked_until.isoformat())
                return LoginOutcome(None, reason="locked", locked_until=locked_until)
            logger.info("locked user %s tries from a known address %s", username, client)
        password_ok = self._verify(stored, password)
        with self._db.session(write=True) as session:
            row = session.get(UserRow, username, with_for_update=True)
            if row is None:
                self._add_failure_audit(session, username, "unknown_user", client)
                return LoginOutcome(None, reason="unknown_user")
            locked_now = row.locked_until is not None and row.locked_until > at
            if locked_now and not known:  # locked by a parallel attempt
                self._add_failure_audit(session, username, "locked", client)
                return LoginOutcome(None, reason="locked", locked_until=row.locked_until)
            if not password_ok:
                return self._count_failure(session, row, policy, client, at)
            if row.disabled:
                self._add_failure_audit(session, username, "disabled", client)
                logger.info("login refused for disabled user %s", username)
                return LoginOutcome(None, reason="disabled")
            return self._succeed(session, row, password, refresh_ttl, client, at, keep_lock=locked_now)

    def _known_address(self, username: str, client: str, since: datetime) -> bool:
        """True when ``username`` logged in successfully from ``client`` since ``since`` (audit trail)."""
        if client == "unknown":
            return False
        stmt = (
            select(AuditRow.detail)
            .where(AuditRow.actor == username, AuditRow.action == "auth.login", AuditRow.at >= since)
            .order_by(AuditRow.id.desc())
            .limit(_KNOWN_ADDRESS_SCAN)
        )
        with self._db.session() as session:
            return any(isinstance(d, dict) and d.get("client") == client for d in session.scalars(stmt))

    def _succeed(
        self,
        session: Session,
        row: UserRow,
        password: str,
        refresh_ttl: timedelta | None,
        client: str,
        at: datetime,
        *,
        keep_lock: bool = False,
    ) -> LoginOutcome:
        if not keep_lock:  # a known address passing a lock leaves it in place for the others
            row.failed_logins = 0
            row.locked_until = None
        if self._hasher.check_needs_rehash(row.password_hash):
            row.password_hash = self._hasher.hash(password)
            logger.info("password hash of %s upgraded to current parameters", row.username)
        refresh = None
        detail: dict[str, Any] = {"client": client, "method": "password"}
        if refresh_ttl is not None:
            refresh = add_refresh_token(session, row.username, at + refresh_ttl, now=at)
            detail["refresh_token"] = refresh.token_id
        add_audit(session, row.username, "auth.login", f"user:{row.username}", detail)
        return LoginOutcome(user_from_row(row), refresh=refresh)

    def _count_failure(
        self, session: Session, row: UserRow, policy: LockoutPolicy, client: str, at: datetime
    ) -> LoginOutcome:
        row.failed_logins = (row.failed_logins or 0) + 1
        self._add_failure_audit(session, row.username, "bad_password", client, failures=row.failed_logins)
        if row.failed_logins < policy.max_failures:
            return LoginOutcome(None, reason="bad_password")
        row.locked_until = at + policy.lock_for
        detail: dict[str, Any] = {
            "client": client,
            "failures": row.failed_logins,
            "until": row.locked_until.isoformat(),
        }
        row.failed_logins = 0
        add_audit(session, "system:auth", "auth.locked", f"user:{row.username}", detail)
        logger.warning(
            "user %s locked until %s after %s failed logins (last from %s)",
            row.username,
            row.locked_until.isoformat(),
            detail["failures"],
            client,
        )
        return LoginOutcome(None, reason="locked", locked_until=row.locked_until)

    @staticmethod
    def _add_failure_audit(
        session: Session,
        username: str,
        reason: str,
        client: str,
        *,
        failures: int | None = None,
    ) -> None:
        name = username[:_MAX_LOGGED_NAME]
        detail: dict[str, Any] = {"client": client, "reason": reason}
        if failures is not None:
            detail["failures"] = failures
        add_audit(session, name, "auth.login_failed", f"user:{name}", detail)

    def change_password(self, username: str, current: str, new: str, *, client: str = "unknown") -> bool:
        """Set ``new`` when ``current`` is the user's password (False otherwise, audited).

        The new password follows the password rule (InvalidPasswordError) and differs from the
        current one; the user's refresh tokens are revoked (other sessions end at their next renewal).
        """
        with self._db.session() as session:
            row = session.get(UserRow, username)
            stored = None if row is None or row.disabled else row.password_hash
        if not self._verify(stored, current):
            with self._db.session(write=True) as session:
                detail = {"client": client, "reason": "bad_password"}
                add_audit(
                    session, username[:_MAX_LOGGED_NAME], "user.password_change_failed", username, detail
                )
            return False
        check_password(new, username)
        if new == current:
            raise InvalidPasswordError(f"the new password of {username} must differ from the current one")
        self._store_password(username, new, actor=username, action="user.password_change", client=client)
        return True

    def set_password(self, username: str, password: str, *, actor: str) -> bool:
        """An administrator sets ``username``'s password (rule checked); False for no such user."""
        check_password(password, username)
        return self._store_password(username, password, actor=actor, action="user.password_set", client=None)

    def reset_password(self, username: str, *, actor: str) -> str | None:
        """A new random password for ``username`` (unlocked, sessions revoked); None for no such user."""
        password = generate_password()
        ok = self._store_password(username, password, actor=actor, action="user.password_reset", client=None)
        return password if ok else None

    def _store_password(
        self, username: str, password: str, *, actor: str, action: str, client: str | None
    ) -> bool:
        password_hash = self._hasher.hash(password)
        with self._db.session(write=True) as session:
            row = session.get(UserRow, username, with_for_update=True)
            if row is None:
                return False
            row.password_hash = password_hash
            row.failed_logins = 0
            row.locked_until = None
            revoked = revoke_user_refresh_tokens(session, username, now=datetime.now(UTC))
            detail: dict[str, Any] = {"refresh_tokens_revoked": revoked}
            if client is not None:
                detail["client"] = client
            add_audit(session, actor, action, username, detail)
        logger.info("%s of %s by %s", action, username, actor)
        return True

    def ensure_admin(self, password: str | None) -> str | None:
        """Create ``admin`` if missing; return the generated password when ``password`` is None.

        Returns None when the admin already existed (its password is left alone). A given password
        that breaks the password rule raises InvalidPasswordError.
        """
        with self._db.session() as session:
            if session.get(UserRow, ADMIN_USERNAME) is not None:
                return None
        if password is not None:
            check_password(password, ADMIN_USERNAME)  # HWARANG_ADMIN_PASSWORD follows the one rule
        generated = generate_password() if password is None else None
        admin = User(
            username=ADMIN_USERNAME,
            display_name="Administrator",
            agency_code=ADMIN_AGENCY,
            jurisdiction_code=None,
            roles=(Role.ADMIN,),
        )
        try:
            self.create(admin, generated or password or "", actor="system:bootstrap")
        except ConflictError:
            return None  # another process created it first
        return generated

    def _verify(self, stored: str | None, password: str) -> bool:
        target = stored if stored is not None else self._dummy()
        try:
            ok = self._hasher.verify(target, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and stored is not None

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash
