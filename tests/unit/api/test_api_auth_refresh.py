"""Short-lived access tokens, refresh-token rotation and reuse, logout, and login lockout over HTTP."""

import time
from typing import Any

import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hwarang.api.tokens import TokenCodec
from hwarang.hub.service import HubService
from tests.unit.api.api_support import ADMIN_PASSWORD, OPERATOR_PASSWORD, TEST_SECRET, bearer

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


def _login(client: TestClient, username: str = "op1", password: str = OPERATOR_PASSWORD) -> dict[str, Any]:
    response = client.post(TOKEN, data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _actions(hub: HubService) -> list[str]:
    return [entry.action for entry in reversed(hub.audit.entries(limit=100))]


def test_refresh_needs_no_access_token_and_rotates(client: TestClient, hub: HubService) -> None:
    first = _login(client)

    renewed = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["expires_in"] == 15 * 60
    assert body["refresh_expires_in"] <= first["refresh_expires_in"]
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"], issuer="hwarang")
    assert claims["sub"] == "op1"
    assert client.get("/api/v1/cameras", headers=bearer(body["access_token"])).status_code == 200
    assert "auth.refresh" in _actions(hub)


def test_reused_refresh_token_revokes_the_whole_login(client: TestClient, hub: HubService) -> None:
    stolen = _login(client)["refresh_token"]
    legit = client.post(REFRESH, json={"refresh_token": stolen}).json()["refresh_token"]

    replay = client.post(REFRESH, json={"refresh_token": stolen})
    after = client.post(REFRESH, json={"refresh_token": legit})

    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    assert 'error="invalid_token"' in replay.headers["www-authenticate"]
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]
    assert "auth.refresh_reuse" in _actions(hub)
    assert hub.identity.refresh_tokens.active_count("op1") == 0


def test_bad_refresh_requests_are_refused_without_server_errors(client: TestClient) -> None:
    cases: list[Any] = [{"refresh_token": "nope.nope"}, {"refresh_token": "x"}, {}, {"refresh_token": ""}]
    codes = [client.post(REFRESH, json=body).status_code for body in cases]
    assert codes == [401, 401, 422, 422]


def test_logout_revokes_the_refresh_token(client: TestClient, hub: HubService) -> None:
    login = _login(client)
    other = _login(client)

    response = client.post(
        LOGOUT, json={"refresh_token": login["refresh_token"]}, headers=bearer(login["access_token"])
    )

    assert response.status_code == 200
    assert response.json() == {"revoked": 1}
    assert client.post(REFRESH, json={"refresh_token": login["refresh_token"]}).status_code == 401
    assert client.post(REFRESH, json={"refresh_token": other["refresh_token"]}).status_code == 200
    assert "auth.logout" in _actions(hub)


def test_logout_without_a_token_revokes_every_login(client: TestClient, hub: HubService) -> None:
    logins = [_login(client) for _ in range(3)]

    response = client.post(LOGOUT, headers=bearer(logins[0]["access_token"]))

    assert response.json() == {"revoked": 3}
    assert hub.identity.refresh_tokens.active_count("op1") == 0
    assert client.post(LOGOUT).status_code == 401


def test_cannot_log_out_someone_elses_refresh_token(client: TestClient) -> None:
    victim = _login(client)
    admin = _login(client, "admin", ADMIN_PASSWORD)

    response = client.post(
        LOGOUT, json={"refresh_token": victim["refresh_token"]}, headers=bearer(admin["access_token"])
    )

    assert response.json() == {"revoked": 0}
    assert client.post(REFRESH, json={"refresh_token": victim["refresh_token"]}).status_code == 200


def test_disabled_user_cannot_refresh(client: TestClient, hub: HubService) -> None:
    login = _login(client)
    hub.identity.users.set_disabled("op1", True, actor="admin")

    response = client.post(REFRESH, json={"refresh_token": login["refresh_token"]})

    assert response.status_code == 401


def test_expired_access_token_is_renewed_by_refresh(client: TestClient, hub: HubService) -> None:
    login = _login(client)
    op1 = hub.identity.users.get("op1")
    assert op1 is not None
    expired = TokenCodec(TEST_SECRET, ttl_s=60).issue(op1, now=time.time() - 3600)
    assert client.get("/api/v1/cameras", headers=bearer(expired)).status_code == 401

    renewed = client.post(REFRESH, json={"refresh_token": login["refresh_token"]}).json()

    assert client.get("/api/v1/cameras", headers=bearer(renewed["access_token"])).status_code == 200


def _stranger(app: FastAPI, address: str) -> TestClient:
    """A client at an address the account never logged in from (each has its own throttle)."""
    return TestClient(app, client=(address, 40000))


def test_lockout_refuses_right_and_wrong_passwords_alike(
    client: TestClient, hub: HubService, app: FastAPI
) -> None:
    guesser, other = _stranger(app, "198.51.100.1"), _stranger(app, "198.51.100.2")
    for _ in range(4):
        response = guesser.post(TOKEN, data={"username": "op1", "password": "wrong-guess"})
        assert response.json()["detail"] == "incorrect username or password"

    fifth = guesser.post(TOKEN, data={"username": "op1", "password": "wrong-guess"})
    right = other.post(TOKEN, data={"username": "op1", "password": OPERATOR_PASSWORD})
    wrong = other.post(TOKEN, data={"username": "op1", "password": "wrong-guess"})

    for response in (fifth, right, wrong):
        assert response.status_code == 401
        assert response.json()["detail"].startswith("account locked after repeated failed logins")
        assert 0 < int(response.headers["retry-after"]) <= 15 * 60
        assert "access_token" not in response.json()
    assert right.json() == wrong.json()
    actions = _actions(hub)
    assert actions.count("auth.locked") == 1
    assert actions.count("auth.login_failed") == 7
    assert (
        client.post(TOKEN, data={"username": "viewer", "password": "viewer-password-789"}).status_code == 200
    )

    hub.identity.users.unlock("op1", actor="admin")
    assert client.post(TOKEN, data={"username": "op1", "password": OPERATOR_PASSWORD}).status_code == 200


def test_an_administrator_unlocks_a_locked_account_over_the_api(
    client: TestClient, hub: HubService, admin_token: str, operator_token: str, app: FastAPI
) -> None:
    guesser, other = _stranger(app, "198.51.100.1"), _stranger(app, "198.51.100.2")
    for _ in range(5):
        guesser.post(TOKEN, data={"username": "op1", "password": "wrong-guess"})
    locked = other.post(TOKEN, data={"username": "op1", "password": OPERATOR_PASSWORD})
    assert locked.status_code == 401 and locked.json()["detail"].startswith("account locked")

    assert client.post("/api/v1/users/op1/unlock", headers=bearer(operator_token)).status_code == 403
    assert client.post("/api/v1/users/nobody/unlock", headers=bearer(admin_token)).status_code == 404
    unlocked = client.post("/api/v1/users/op1/unlock", headers=bearer(admin_token))

    assert unlocked.status_code == 200 and unlocked.json()["disabled"] is False
    assert other.post(TOKEN, data={"username": "op1", "password": OPERATOR_PASSWORD}).status_code == 200
    assert [e.actor for e in hub.audit.entries(limit=100) if e.action == "user.unlock"] == ["admin"]


def test_who_am_i(client: TestClient, operator_token: str) -> None:
    response = client.get("/api/v1/auth/me", headers=bearer(operator_token))

    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["roles"], body["agency_code"]) == ("op1", ["operator"], "seoul-jung")
