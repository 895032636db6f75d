"""Users: argon2 hashes, authentication (good, bad, unknown, disabled), lockout, rehash, first admin."""

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from hwarang.domain import Role, User
from hwarang.hub.errors import ConflictError
from hwarang.hub.identity.users import LockoutPolicy, UserStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import RefreshTokenRow, UserRow
from tests.hub_support import FAST_HASHER

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


NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(max_failures=3, lock_for=timedelta(minutes=10))


def _stored_hash(db: Database, username: str) -> str:
    with db.session() as session:
        value = session.scalar(select(UserRow.password_hash).where(UserRow.username == username))
    assert value is not None
    return value


def test_authenticate_good_password_round_trips_user(service: HubService) -> None:
    service.identity.users.create(ALICE, "correct horse")
    user = service.identity.users.authenticate("alice", "correct horse")
    assert user == ALICE
    assert service.identity.users.get("alice") == ALICE


def test_password_is_stored_as_argon2id(service: HubService, sqlite_db: Database) -> None:
    service.identity.users.create(ALICE, "correct horse")
    stored = _stored_hash(sqlite_db, "alice")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def test_bad_password_and_unknown_user_fail(service: HubService) -> None:
    service.identity.users.create(ALICE, "correct horse")
    assert service.identity.users.authenticate("alice", "wrong") is None
    assert service.identity.users.authenticate("bob", "correct horse") is None
    assert service.identity.users.get("bob") is None


def test_unknown_user_still_runs_a_verification(sqlite_db: Database) -> None:
    hasher = CountingHasher()
    store = UserStore(sqlite_db, hasher)
    assert store.authenticate("nobody", "pw") is None
    assert hasher.verifies == 1


def test_disabled_user_fails_even_with_right_password(service: HubService) -> None:
    service.identity.users.create(ALICE, "correct horse")
    assert service.identity.users.set_disabled("alice", True)
    assert service.identity.users.authenticate("alice", "correct horse") is None
    assert service.identity.users.get("alice") is None, "a disabled user must not pass token checks"
    assert service.identity.users.get("alice", include_disabled=True) == ALICE
    assert service.identity.users.set_disabled("alice", False)
    assert service.identity.users.get("alice") == ALICE
    assert service.identity.users.authenticate("alice", "correct horse") == ALICE
    assert not service.identity.users.set_disabled("ghost", True)


def test_duplicate_user_is_a_conflict(service: HubService) -> None:
    service.identity.users.create(ALICE, "pw1")
    with pytest.raises(ConflictError, match="'alice' already exists"):
        service.identity.users.create(ALICE, "pw2")
    assert service.identity.users.authenticate("alice", "pw1") == ALICE


def test_empty_password_is_refused(service: HubService) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        service.identity.users.create(ALICE, "")


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
    generated = service.identity.ensure_admin(None)
    assert generated is not None
    assert len(generated) >= 16
    admin = service.identity.users.authenticate("admin", generated)
    assert admin is not None
    assert admin.roles == (Role.ADMIN,)
    assert admin.agency_code == "idhq"
    assert admin.jurisdiction_code is None
    assert service.identity.ensure_admin(None) is None
    assert service.identity.ensure_admin("another") is None
    assert service.identity.users.authenticate("admin", generated) == admin
    assert service.identity.users.authenticate("admin", "another") is None


def test_ensure_admin_with_given_password_returns_none(service: HubService) -> None:
    assert service.identity.ensure_admin("chosen-password") is None
    assert service.identity.users.authenticate("admin", "chosen-password") is not None


def test_user_creation_is_audited(service: HubService) -> None:
    service.identity.users.create(ALICE, "pw", actor="admin")
    entries = service.audit.entries(10)
    assert [(e.actor, e.action, e.target) for e in entries] == [("admin", "user.create", "alice")]


def _counters(db: Database, username: str) -> tuple[int, datetime | None]:
    with db.session() as session:
        row = session.get(UserRow, username)
        assert row is not None
        return row.failed_logins, row.locked_until


def _audit(service: HubService) -> list[tuple[str, str, dict[str, object]]]:
    return [(e.actor, e.action, e.detail) for e in reversed(service.audit.entries(50))]


def test_repeated_failures_lock_the_account_whatever_the_password(
    service: HubService, sqlite_db: Database
) -> None:
    service.identity.users.create(ALICE, "correct horse")
    outcomes = [service.identity.users.login("alice", "wrong", policy=POLICY, now=NOW) for _ in range(3)]

    assert [o.reason for o in outcomes] == ["bad_password", "bad_password", "locked"]
    assert outcomes[-1].locked_until == NOW + timedelta(minutes=10)
    assert _counters(sqlite_db, "alice") == (0, NOW + timedelta(minutes=10))
    right = service.identity.users.login(
        "alice", "correct horse", policy=POLICY, now=NOW + timedelta(minutes=9)
    )
    wrong = service.identity.users.login("alice", "wrong", policy=POLICY, now=NOW + timedelta(minutes=9))
    assert (right.user, right.reason, right.locked_until) == (None, "locked", NOW + timedelta(minutes=10))
    assert (wrong.user, wrong.reason, wrong.locked_until) == (right.user, right.reason, right.locked_until)

    after = service.identity.users.login(
        "alice", "correct horse", policy=POLICY, now=NOW + timedelta(minutes=11)
    )
    assert after.user == ALICE
    assert _counters(sqlite_db, "alice") == (0, None)


def test_lockout_is_audited_with_reasons(service: HubService) -> None:
    service.identity.users.create(ALICE, "correct horse")
    for _ in range(3):
        service.identity.users.login("alice", "wrong", policy=POLICY, client="10.0.0.7", now=NOW)
    service.identity.users.login("alice", "correct horse", policy=POLICY, now=NOW + timedelta(minutes=1))

    entries = [(actor, action, detail.get("reason")) for actor, action, detail in _audit(service)]
    assert entries[1:] == [
        ("alice", "auth.login_failed", "bad_password"),
        ("alice", "auth.login_failed", "bad_password"),
        ("alice", "auth.login_failed", "bad_password"),
        ("system:auth", "auth.locked", None),
        ("alice", "auth.login_failed", "locked"),
    ]
    locked = next(detail for _, action, detail in _audit(service) if action == "auth.locked")
    assert locked == {"client": "10.0.0.7", "failures": 3, "until": (NOW + timedelta(minutes=10)).isoformat()}
    assert all(
        "correct horse" not in str(detail) and "wrong" not in str(detail) for *_, detail in _audit(service)
    )


def test_success_resets_the_failure_count(service: HubService, sqlite_db: Database) -> None:
    service.identity.users.create(ALICE, "correct horse")
    for _ in range(2):
        service.identity.users.login("alice", "wrong", policy=POLICY, now=NOW)
    assert _counters(sqlite_db, "alice") == (2, None)

    assert service.identity.users.login("alice", "correct horse", policy=POLICY, now=NOW).user == ALICE
    assert _counters(sqlite_db, "alice") == (0, None)
    for _ in range(2):
        service.identity.users.login("alice", "wrong", policy=POLICY, now=NOW)
    assert service.identity.users.login("alice", "correct horse", policy=POLICY, now=NOW).user == ALICE


def test_locked_and_unknown_logins_still_cost_one_verification(sqlite_db: Database) -> None:
    hasher = CountingHasher()
    store = UserStore(sqlite_db, hasher)
    store.create(ALICE, "correct horse")
    for _ in range(3):
        store.login("alice", "wrong", policy=POLICY, now=NOW)
    hasher.verifies = 0

    assert store.login("alice", "correct horse", policy=POLICY, now=NOW).reason == "locked"
    assert store.login("nobody", "pw", policy=POLICY, now=NOW).reason == "unknown_user"
    assert hasher.verifies == 2


def test_unlock_clears_the_lock(service: HubService, sqlite_db: Database) -> None:
    service.identity.users.create(ALICE, "correct horse")
    for _ in range(3):
        service.identity.users.login("alice", "wrong", policy=POLICY, now=NOW)

    assert service.identity.users.unlock("alice", actor="admin")
    assert _counters(sqlite_db, "alice") == (0, None)
    assert service.identity.users.login("alice", "correct horse", policy=POLICY, now=NOW).user == ALICE
    assert not service.identity.users.unlock("ghost")
    assert ("admin", "user.unlock") in [(actor, action) for actor, action, _ in _audit(service)]


def test_lockout_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_failures"):
        LockoutPolicy(max_failures=0)
    with pytest.raises(ValueError, match="lock_for"):
        LockoutPolicy(lock_for=timedelta(0))


def test_login_issues_a_refresh_token_stored_only_as_its_hash(
    service: HubService, sqlite_db: Database
) -> None:
    service.identity.users.create(ALICE, "correct horse")

    outcome = service.identity.users.login("alice", "correct horse", refresh_ttl=timedelta(hours=12), now=NOW)

    assert outcome.refresh is not None
    assert outcome.refresh.expires_at == NOW + timedelta(hours=12)
    with sqlite_db.session() as session:
        rows = list(session.scalars(select(RefreshTokenRow)))
    assert [(r.username, r.expires_at) for r in rows] == [("alice", NOW + timedelta(hours=12))]
    secret = outcome.refresh.token.split(".")[1]
    assert secret not in rows[0].token_hash
    assert len(rows[0].token_hash) == 64
    assert service.identity.users.login("alice", "correct horse").refresh is None


def test_disabling_a_user_revokes_their_refresh_tokens(service: HubService) -> None:
    service.identity.users.create(ALICE, "correct horse")
    for _ in range(2):
        service.identity.users.login("alice", "correct horse", refresh_ttl=timedelta(hours=1))
    assert service.identity.refresh_tokens.active_count("alice") == 2

    service.identity.users.set_disabled("alice", True, actor="admin")

    assert service.identity.refresh_tokens.active_count("alice") == 0
    disable = [detail for _, action, detail in _audit(service) if action == "user.disable"]
    assert disable == [{"refresh_tokens_revoked": 2}]


def test_a_lock_set_while_the_password_was_checked_still_refuses(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = UserStore(sqlite_db, FAST_HASHER)
    store.create(ALICE, "correct horse")
    verify = store._verify

    def verify_while_a_parallel_attempt_locks(stored: str | None, password: str) -> bool:
        with sqlite_db.session(write=True) as session:
            row = session.get(UserRow, "alice")
            assert row is not None
            row.locked_until = NOW + timedelta(minutes=5)
        return verify(stored, password)

    monkeypatch.setattr(store, "_verify", verify_while_a_parallel_attempt_locks)

    outcome = store.login("alice", "correct horse", policy=POLICY, now=NOW)

    assert (outcome.user, outcome.reason, outcome.locked_until) == (
        None,
        "locked",
        NOW + timedelta(minutes=5),
    )
