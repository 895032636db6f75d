"""Accounts: per-address throttling that slows a guesser without locking the real user out,
password change, the one password rule (issue #15, item 4)."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hwarang.api.throttle import LoginThrottle
from hwarang.hub.identity.passwords import InvalidPasswordError, check_password
from hwarang.hub.service import HubService
from hwarang.runtime.embedded import admin_password_from_env
from tests.unit.api.api_support import ADMIN_PASSWORD, OPERATOR_PASSWORD, bearer, login


def _client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


@pytest.fixture
def attacker(app: FastAPI) -> Iterator[TestClient]:
    with _client_at(app, "198.51.100.7") as client:
        yield client


def test_throttle_doubles_the_wait_after_free_failures() -> None:
    now = [0.0]
    throttle = LoginThrottle(free_failures=3, max_delay_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait_s("a") == 0
        throttle.failed("a")
    assert throttle.wait_s("a") == 1.0 and throttle.wait_s("b") == 0
    now[0] = 1.0
    throttle.failed("a")
    assert throttle.wait_s("a") == 2.0
    now[0] = 100.0  # quiet longer than the longest wait: forgotten
    assert throttle.wait_s("a") == 0
    throttle.failed("a")
    throttle.succeeded("a")
    assert throttle.wait_s("a") == 0


def test_fast_logins_from_one_address_get_429_and_the_real_user_still_logs_in(
    client: TestClient, attacker: TestClient, app: FastAPI
) -> None:
    login(client, "admin", ADMIN_PASSWORD)  # the real user's usual address
    answers = [
        attacker.post("/api/v1/auth/token", data={"username": "admin", "password": f"guess-{i:04d}x"})
        for i in range(50)
    ]
    codes = [answer.status_code for answer in answers]
    assert 429 in codes[:20], codes
    first = codes.index(429)
    assert int(answers[first].headers["Retry-After"]) >= 1
    assert answers[first].headers["X-Frame-Options"] == "DENY"
    assert codes.count(401) <= 6  # only a handful of passwords were ever checked
    # the account is locked for strangers, even with the right password...
    with _client_at(app, "203.0.113.9") as stranger:
        locked = stranger.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
        assert locked.status_code == 401 and "locked" in locked.json()["detail"]
    # ...but not for the real user at their known address
    assert login(client, "admin", ADMIN_PASSWORD)


def test_password_change(client: TestClient, operator_token: str, hub: HubService) -> None:
    path = "/api/v1/auth/password"
    new = "a-brand-new-password-1"
    wrong = client.post(
        path, json={"current_password": "nope-nope-1", "new_password": new}, headers=bearer(operator_token)
    )
    assert wrong.status_code == 403
    weak = client.post(
        path,
        json={"current_password": OPERATOR_PASSWORD, "new_password": "short"},
        headers=bearer(operator_token),
    )
    assert weak.status_code == 422 and "at least 10" in weak.json()["detail"]
    named = client.post(
        path,
        json={"current_password": OPERATOR_PASSWORD, "new_password": "op1op1op1op1"},
        headers=bearer(operator_token),
    )
    assert named.status_code == 422
    done = client.post(
        path,
        json={"current_password": OPERATOR_PASSWORD, "new_password": new},
        headers=bearer(operator_token),
    )
    assert done.status_code == 200 and done.json() == {"changed": True}
    assert (
        client.post("/api/v1/auth/token", data={"username": "op1", "password": OPERATOR_PASSWORD}).status_code
        == 401
    )
    assert login(client, "op1", new)
    actions = [e.action for e in hub.audit.entries(100, actor="op1")]
    assert "user.password_change" in actions and "user.password_change_failed" in actions


def test_reset_and_set_password_unlock_and_follow_the_rule(hub: HubService) -> None:
    users = hub.identity.users
    with pytest.raises(InvalidPasswordError):
        users.set_password("op1", "a", actor="cli")
    assert users.set_password("op1", "set-by-the-admin-1", actor="cli")
    assert users.authenticate("op1", "set-by-the-admin-1") is not None
    fresh = users.reset_password("op1", actor="cli")
    assert fresh is not None and users.authenticate("op1", fresh) is not None
    check_password(fresh, "op1")
    assert users.reset_password("ghost", actor="cli") is None


@pytest.mark.parametrize("value", ["a", "adminadminadmin", "x" * 12, "tab\there-and-more"])
def test_admin_password_from_the_environment_follows_the_rule(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HWARANG_ADMIN_PASSWORD", value)
    with pytest.raises(InvalidPasswordError, match="HWARANG_ADMIN_PASSWORD"):
        admin_password_from_env()
    monkeypatch.setenv("HWARANG_ADMIN_PASSWORD", "a-good-admin-password")
    assert admin_password_from_env() == "a-good-admin-password"
