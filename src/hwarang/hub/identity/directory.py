"""Who is who, in one place: users, their refresh tokens, and the agencies they belong to."""

from argon2 import PasswordHasher

from hwarang.hub.identity.agencies import AgencyStore
from hwarang.hub.identity.refresh_tokens import RefreshTokenStore
from hwarang.hub.identity.users import UserStore
from hwarang.hub.store.db import Database

__all__ = ["Directory"]


class Directory:
    """The identity room of one hub; ``password_hasher`` overrides argon2's defaults (tests)."""

    def __init__(self, database: Database, password_hasher: PasswordHasher | None = None) -> None:
        self.users = UserStore(database, password_hasher)
        self.refresh_tokens = RefreshTokenStore(database)
        self.agencies = AgencyStore(database)

    def ensure_admin(self, password: str | None) -> str | None:
        """Create the ``admin`` user (and the default agencies) at first start.

        Returns the generated password if one was made.
        """
        self.agencies.ensure_defaults()
        return self.users.ensure_admin(password)
