"""Refresh tokens: rotation, fixed expiry, reuse detection, revocation."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hwarang.domain import Role, User
from hwarang.hub.identity.refresh_tokens import RefreshTokenError
from hwarang.hub.service import HubService
from hwarang.hub.store.models import RefreshTokenRow

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BOB = User(username="bob", display_name="Bob", agency_code="seoul-jung", roles=(Role.OPERATOR,))


@pytest.fixture
def hub(service: HubService) -> HubService:
    service.identity.users.create(BOB, "bob-password")
    return service


def _actions(service: HubService) -> list[tuple[str, str, dict[str, object]]]:
    return [(e.actor, e.action, e.detail) for e in reversed(service.audit.entries(50))]


def test_rotation_keeps_the_login_expiry_and_retires_the_old_token(hub: HubService) -> None:
    store = hub.identity.refresh_tokens
    first = store.issue("bob", timedelta(hours=12), now=NOW)

    second = store.rotate(first.token, client="10.1.1.1", now=NOW + timedelta(hours=1))

    assert second.token != first.token
    assert second.username == "bob"
    assert second.expires_at == first.expires_at == NOW + timedelta(hours=12)
    with hub.database.session() as session:
        old = session.get(RefreshTokenRow, first.token_id)
        assert old is not None
        assert (old.revoked_at, old.replaced_by) == (NOW + timedelta(hours=1), second.token_id)
    refresh = [detail for _, action, detail in _actions(hub) if action == "auth.refresh"]
    assert refresh == [{"client": "10.1.1.1", "replaces": first.token_id, "token": second.token_id}]


def test_reusing_a_rotated_token_revokes_every_token_of_the_user(hub: HubService) -> None:
    store = hub.identity.refresh_tokens
    stolen = store.issue("bob", timedelta(hours=12), now=NOW)
    other_session = store.issue("bob", timedelta(hours=12), now=NOW)
    current = store.rotate(stolen.token, now=NOW + timedelta(minutes=5))

    with pytest.raises(RefreshTokenError, match="already used"):
        store.rotate(stolen.token, client="203.0.113.9", now=NOW + timedelta(minutes=6))

    assert store.active_count("bob", now=NOW + timedelta(minutes=6)) == 0
    for token in (current.token, other_session.token):
        with pytest.raises(RefreshTokenError, match="revoked"):
            store.rotate(token, now=NOW + timedelta(minutes=7))
    reuse = [(actor, detail) for actor, action, detail in _actions(hub) if action == "auth.refresh_reuse"]
    assert reuse == [("bob", {"client": "203.0.113.9", "token": stolen.token_id, "revoked": 2})]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t + "x", "unknown refresh token"),
        (lambda t: "nodot", "malformed"),
        (lambda t: "a.b.c", "malformed"),
        (lambda t: "0" * 32 + ".secret", "unknown refresh token"),
        (lambda t: "x" * 300, "malformed"),
    ],
)
def test_tampered_or_unknown_tokens_are_refused(hub: HubService, mangle: object, message: str) -> None:
    issued = hub.identity.refresh_tokens.issue("bob", timedelta(hours=1), now=NOW)
    assert callable(mangle)
    with pytest.raises(RefreshTokenError, match=message):
        hub.identity.refresh_tokens.rotate(mangle(issued.token), now=NOW)
    assert hub.identity.refresh_tokens.active_count("bob", now=NOW) == 1


def test_expired_token_is_refused(hub: HubService) -> None:
    issued = hub.identity.refresh_tokens.issue("bob", timedelta(hours=1), now=NOW)
    with pytest.raises(RefreshTokenError, match="expired"):
        hub.identity.refresh_tokens.rotate(issued.token, now=NOW + timedelta(hours=1, seconds=1))


def test_disabled_user_cannot_refresh(hub: HubService) -> None:
    revoked_by_disable = hub.identity.refresh_tokens.issue("bob", timedelta(hours=1))
    hub.identity.users.set_disabled("bob", True)
    with pytest.raises(RefreshTokenError, match="revoked"):
        hub.identity.refresh_tokens.rotate(revoked_by_disable.token)

    behind_the_back = hub.identity.refresh_tokens.issue("bob", timedelta(hours=1))
    with pytest.raises(RefreshTokenError, match="'bob' no longer exists or is disabled"):
        hub.identity.refresh_tokens.rotate(behind_the_back.token)
    assert hub.identity.refresh_tokens.active_count("bob") == 0


def test_logout_revokes_one_token_or_all(hub: HubService) -> None:
    store = hub.identity.refresh_tokens
    one, two, three = (store.issue("bob", timedelta(hours=1)) for _ in range(3))

    assert store.revoke("bob", one.token, client="10.0.0.1") == 1
    assert store.revoke("bob", one.token) == 0
    assert store.revoke("someone-else", two.token) == 0
    assert store.revoke("bob", "garbage") == 0
    assert store.active_count("bob") == 2
    assert store.revoke("bob") == 2
    assert store.active_count("bob") == 0
    with pytest.raises(RefreshTokenError, match="revoked; log in again"):
        store.rotate(three.token)
    logouts = [detail for _, action, detail in _actions(hub) if action == "auth.logout"]
    assert logouts[0] == {"client": "10.0.0.1", "scope": "token", "revoked": 1}
    assert logouts[-1] == {"client": "unknown", "scope": "all", "revoked": 2}


def test_only_hashes_are_stored(hub: HubService) -> None:
    issued = hub.identity.refresh_tokens.issue("bob", timedelta(hours=1))
    with hub.database.session() as session:
        stored = list(session.execute(select(RefreshTokenRow.id, RefreshTokenRow.token_hash)))
    assert len(stored) == 1
    token_id, digest = stored[0]
    assert token_id == issued.token_id
    assert issued.token.split(".")[1] not in digest
    assert digest != issued.token


def test_login_rotation_and_reuse_on_each_engine(engine_service: HubService) -> None:
    engine_service.identity.users.create(BOB, "bob-password")
    login = engine_service.identity.users.login(
        "bob", "bob-password", refresh_ttl=timedelta(hours=1), now=NOW
    )
    assert login.refresh is not None

    rotated = engine_service.identity.refresh_tokens.rotate(
        login.refresh.token, now=NOW + timedelta(minutes=1)
    )
    with pytest.raises(RefreshTokenError, match="already used"):
        engine_service.identity.refresh_tokens.rotate(login.refresh.token, now=NOW + timedelta(minutes=2))

    assert rotated.expires_at == NOW + timedelta(hours=1)
    assert engine_service.identity.refresh_tokens.active_count("bob", now=NOW) == 0
    actions = [action for _, action, _ in _actions(engine_service)]
    assert actions[-3:] == ["auth.login", "auth.refresh", "auth.refresh_reuse"]
