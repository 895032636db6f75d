"""Users: argon2 hashes, authentication (good, bad, unknown, disabled), rehash, first admin."""

from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from hub_support import FAST_HASHER
from hwarang.domain import Role, User
from hwarang.hub.errors import ConflictError
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import UserRow
from hwarang.hub.users import UserStore

ALICE = User(
    username="alice",
    display_name="Kim Alice",
    agency_code="seoul-jung",
    jurisdiction_code="11140",
    roles=(Role.OPERATOR, Role.COMMANDER),
)


class CountingHasher(PasswordHasher):
    """Counts verify calls, to prove unknown users still cost one verification."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verifies = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verifies += 1
        return super().verify(hash, password)


def _stored_hash(db: Database, username: str) -> str:
    with db.session() as session:
        value = session.scalar(select(UserRow.password_hash).where(UserRow.username == username))
    assert value is not None
    return value


def test_authenticate_good_password_round_trips_user(service: HubService) -> None:
    service.create_user(ALICE, "correct horse")
    user = service.authenticate("alice", "correct horse")
    assert user == ALICE
    assert service.get_user("alice") == ALICE


def test_password_is_stored_as_argon2id(service: HubService, sqlite_db: Database) -> None:
    service.create_user(ALICE, "correct horse")
    stored = _stored_hash(sqlite_db, "alice")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def test_bad_password_and_unknown_user_fail(service: HubService) -> None:
    service.create_user(ALICE, "correct horse")
    assert service.authenticate("alice", "wrong") is None
    assert service.authenticate("bob", "correct horse") is None
    assert service.get_user("bob") is None


def test_unknown_user_still_runs_a_verification(sqlite_db: Database) -> None:
    hasher = CountingHasher()
    store = UserStore(sqlite_db, hasher)
    assert store.authenticate("nobody", "pw") is None
    assert hasher.verifies == 1


def test_disabled_user_fails_even_with_right_password(service: HubService) -> None:
    service.create_user(ALICE, "correct horse")
    assert service.set_user_disabled("alice", True)
    assert service.authenticate("alice", "correct horse") is None
    assert service.get_user("alice") is None, "a disabled user must not pass token checks"
    assert service.users.get("alice", include_disabled=True) == ALICE
    assert service.set_user_disabled("alice", False)
    assert service.get_user("alice") == ALICE
    assert service.authenticate("alice", "correct horse") == ALICE
    assert not service.set_user_disabled("ghost", True)


def test_duplicate_user_is_a_conflict(service: HubService) -> None:
    service.create_user(ALICE, "pw1")
    with pytest.raises(ConflictError, match="'alice' already exists"):
        service.create_user(ALICE, "pw2")
    assert service.authenticate("alice", "pw1") == ALICE


def test_empty_password_is_refused(service: HubService) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        service.create_user(ALICE, "")


def test_hash_is_upgraded_when_parameters_change(sqlite_db: Database) -> None:
    UserStore(sqlite_db, FAST_HASHER).create(ALICE, "correct horse")
    old = _stored_hash(sqlite_db, "alice")
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    assert stronger.check_needs_rehash(old)
    assert UserStore(sqlite_db, stronger).authenticate("alice", "correct horse") == ALICE
    new = _stored_hash(sqlite_db, "alice")
    assert new != old
    assert not stronger.check_needs_rehash(new)
    assert UserStore(sqlite_db, stronger).authenticate("alice", "correct horse") == ALICE


def test_ensure_admin_generates_a_password_once(service: HubService) -> None:
    generated = service.ensure_admin(None)
    assert generated is not None
    assert len(generated) >= 16
    admin = service.authenticate("admin", generated)
    assert admin is not None
    assert admin.roles == (Role.ADMIN,)
    assert admin.agency_code == "idhq"
    assert admin.jurisdiction_code is None
    assert service.ensure_admin(None) is None
    assert service.ensure_admin("another") is None
    assert service.authenticate("admin", generated) == admin
    assert service.authenticate("admin", "another") is None


def test_ensure_admin_with_given_password_returns_none(service: HubService) -> None:
    assert service.ensure_admin("chosen-password") is None
    assert service.authenticate("admin", "chosen-password") is not None


def test_user_creation_is_audited(service: HubService) -> None:
    service.create_user(ALICE, "pw", actor="admin")
    entries = service.list_audit(10)
    assert [(e.actor, e.action, e.target) for e in entries] == [("admin", "user.create", "alice")]
