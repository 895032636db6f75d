"""User accounts: argon2id password hashes, authentication, the first admin."""

import logging
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from hwarang.domain import Classification, Role, User
from hwarang.hub.audit import add_audit
from hwarang.hub.errors import ConflictError
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import UserRow

logger = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
ADMIN_AGENCY = "idhq"


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
        """Disable or re-enable a user; False when the user does not exist."""
        with self._db.session(write=True) as session:
            row = session.get(UserRow, username)
            if row is None:
                return False
            row.disabled = disabled
            add_audit(session, actor, "user.disable" if disabled else "user.enable", username)
        return True

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when ``password`` is right and the account enabled; None otherwise.

        Unknown users are checked against a dummy hash so response time does not reveal them.
        """
        with self._db.session() as session:
            row = session.get(UserRow, username)
            stored = None if row is None else row.password_hash
            user = None if row is None else user_from_row(row)
            disabled = row is not None and row.disabled
        if not self._verify(stored, password) or user is None:
            return None
        if disabled:
            logger.info("login refused for disabled user %s", username)
            return None
        if stored is not None and self._hasher.check_needs_rehash(stored):
            self._rehash(username, password)
        return user

    def ensure_admin(self, password: str | None) -> str | None:
        """Create ``admin`` if missing; return the generated password when ``password`` is None.

        Returns None when the admin already existed (its password is left alone).
        """
        with self._db.session() as session:
            if session.get(UserRow, ADMIN_USERNAME) is not None:
                return None
        generated = secrets.token_urlsafe(12) if password is None else None
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

    def _rehash(self, username: str, password: str) -> None:
        new_hash = self._hasher.hash(password)
        with self._db.session(write=True) as session:
            session.execute(
                update(UserRow).where(UserRow.username == username).values(password_hash=new_hash)
            )
        logger.info("password hash of %s upgraded to current parameters", username)
