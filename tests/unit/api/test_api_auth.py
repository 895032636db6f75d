"""Login, token verification, deny-by-default and role checks."""

import time

import jwt
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from hwarang.api.app import PUBLIC_ROUTES, check_access_control, iter_routes
from hwarang.api.tokens import TokenCodec
from hwarang.domain import Role, User
from hwarang.hub.service import HubService
from tests.unit.api.api_support import (
    ADMIN_PASSWORD,
    OPERATOR_PASSWORD,
    TEST_SECRET,
    bearer,
    login,
    make_message,
    message_json,
)


def _audit_actions(hub: HubService) -> list[tuple[str, str]]:
    return [(entry.actor, entry.action) for entry in hub.audit.entries(limit=50)]


def test_login_returns_bearer_token_with_claims(client: TestClient, hub: HubService) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert 12 * 3600 - 5 <= body["refresh_expires_in"] <= 12 * 3600
    assert body["refresh_token"].count(".") == 1
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"], issuer="hwarang")
    assert claims["sub"] == "admin"
    assert claims["roles"] == ["admin"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert {"agency", "jti"} <= claims.keys()
    assert ("admin", "auth.login") in _audit_actions(hub)


def test_bad_password_and_unknown_user_are_401_and_audited(client: TestClient, hub: HubService) -> None:
    wrong = client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "ghost", "password": ADMIN_PASSWORD})

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "access_token" not in response.json()
    actions = _audit_actions(hub)
    assert ("admin", "auth.login_failed") in actions
    assert ("ghost", "auth.login_failed") in actions
    details = [entry.detail for entry in hub.audit.entries(limit=50)]
    assert all("nope-nope" not in str(detail) for detail in details)


def test_every_protected_route_refuses_requests_without_token(app: FastAPI, client: TestClient) -> None:
    checked = 0
    for route in iter_routes(app.routes):
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods or ():
            if (method, route.path) in PUBLIC_ROUTES:
                continue
            path = route.path.replace("{incident_id}", "00000000-0000-0000-0000-000000000000")
            path = path.replace("{event_id}", "00000000-0000-0000-0000-000000000000")
            path = path.replace("{sha256}", "0" * 64)
            response = client.request(method, path)
            assert response.status_code == 401, f"{method} {route.path} -> {response.status_code}"
            assert response.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked >= 8


def test_public_routes_answer_without_token(client: TestClient) -> None:
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_unguarded_route_is_rejected_at_build_time() -> None:
    app = FastAPI()

    @app.get("/api/v1/leak")
    def leak() -> dict[str, str]:
        return {"secret": "x"}

    try:
        check_access_control(app.routes)
    except RuntimeError as exc:
        assert "/api/v1/leak" in str(exc)
    else:
        raise AssertionError("an unguarded route passed the access check")


def test_tampered_token_is_401(client: TestClient, admin_token: str) -> None:
    header, payload, signature = admin_token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    forged = jwt.encode({"sub": "admin", "roles": ["admin"]}, "another-key-" + "x" * 32, algorithm="HS256")

    for token in (f"{header}.{payload}.{flipped}", forged, "not-a-jwt"):
        response = client.get("/api/v1/incidents", headers=bearer(token))
        assert response.status_code == 401
        assert "invalid_token" in response.headers["www-authenticate"]
    assert client.get("/api/v1/incidents", headers=bearer(admin_token)).status_code == 200


def test_expired_token_is_401(client: TestClient, hub: HubService) -> None:
    admin = hub.identity.users.get("admin")
    assert admin is not None
    expired = TokenCodec(TEST_SECRET, ttl_s=60).issue(admin, now=time.time() - 3600)

    response = client.get("/api/v1/cameras", headers=bearer(expired))

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_token_of_deleted_user_is_401(client: TestClient) -> None:
    ghost = User(username="ghost", display_name="ghost", agency_code="x", roles=(Role.ADMIN,))
    ghost_token = TokenCodec(TEST_SECRET, ttl_s=60).issue(ghost)

    response = client.get("/api/v1/cameras", headers=bearer(ghost_token))

    assert response.status_code == 401
    assert "ghost" in response.json()["detail"]


def test_token_of_disabled_user_is_401(client: TestClient, hub: HubService) -> None:
    token = login(client, "op1", OPERATOR_PASSWORD)
    assert client.get("/api/v1/cameras", headers=bearer(token)).status_code == 200

    hub.identity.users.set_disabled("op1", True)

    assert client.get("/api/v1/cameras", headers=bearer(token)).status_code == 401


def test_role_check_forbids_posting_events_without_operator_role(
    client: TestClient, viewer_token: str, operator_token: str
) -> None:
    body = message_json(make_message(1))

    denied = client.post("/api/v1/events", json=body, headers=bearer(viewer_token))
    allowed = client.post("/api/v1/events", json=body, headers=bearer(operator_token))

    assert denied.status_code == 403
    assert "event.ingest" in denied.json()["detail"]
    assert allowed.status_code == 201
