"""Input guard: control characters and huge integers are 422 naming the field, bodies are capped
before authentication, X-Forwarded-For counts only behind trusted proxies, errors carry headers."""

import asyncio
from collections.abc import Iterator, Mapping

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.types import Message, Receive, Scope, Send

from hwarang.api.app import create_app
from hwarang.api.clientaddr import client_address
from hwarang.api.guard import BodyLimits, InputGuardMiddleware
from hwarang.api.middleware import SECURITY_HEADERS
from hwarang.api.settings import ApiSettings
from hwarang.hub.service import HubService
from tests.unit.api.api_support import bearer, make_message, message_json

HUGE = "99999999999999999999999"


def _has_security_headers(headers: Mapping[str, str]) -> bool:
    return all(headers.get(name) == value for name, value in SECURITY_HEADERS)


def test_huge_integer_query_is_422_naming_the_field(client: TestClient, admin_token: str) -> None:
    response = client.get(f"/api/v1/audit?before_id={HUGE}", headers=bearer(admin_token))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "before_id"]
    assert "before_id" in response.json()["message"]
    assert _has_security_headers(response.headers)


def test_nul_in_query_is_422(client: TestClient, admin_token: str) -> None:
    response = client.get("/api/v1/audit?actor=ad%00min", headers=bearer(admin_token))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "actor"]


def test_nul_in_login_form_is_422_before_the_store(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "ad\x00min", "password": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]


def test_nul_and_huge_integers_in_json_name_the_field(client: TestClient, operator_token: str) -> None:
    body = message_json(make_message(7))
    body["event"]["rule_name"] = "fence\x00north"
    response = client.post("/api/v1/events", json=body, headers=bearer(operator_token))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "event", "rule_name"]
    body = message_json(make_message(8))
    body["event"]["track_id"] = int(HUGE)
    response = client.post("/api/v1/events", json=body, headers=bearer(operator_token))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "event", "track_id"]


def test_newlines_in_json_text_are_accepted(client: TestClient, operator_token: str) -> None:
    """The guard lets line breaks through (notes have them); an event's names refuse them at the model."""
    posted = client.post("/api/v1/events", json=message_json(make_message(9)), headers=bearer(operator_token))
    assert posted.status_code in (200, 201, 202), posted.text
    incident_id = posted.json()["incident_id"]
    note = {"text": "fence north\nsecond line\ttabbed"}
    url = f"/api/v1/incidents/{incident_id}/notes"
    response = client.post(url, json=note, headers=bearer(operator_token))
    assert response.status_code == 201, response.text
    assert response.json()["text"] == note["text"]
    body = message_json(make_message(10))
    body["event"]["rule_name"] = "fence\nnorth"
    refused = client.post("/api/v1/events", json=body, headers=bearer(operator_token))
    assert refused.status_code == 422 and "body.event.rule_name" in refused.text


def test_large_unauthenticated_body_is_413_before_reading(client: TestClient) -> None:
    read = 0

    def body() -> Iterator[bytes]:
        nonlocal read
        for _ in range(20 * 16):
            read += 1
            yield b"x" * 65536

    response = client.post(
        "/api/v1/events",
        content=body(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer forged"},
    )
    assert response.status_code == 413
    assert _has_security_headers(response.headers)
    assert read == 20 * 16  # (the test client buffers; the guard's own reads are counted below)
    declared = client.post(
        "/api/v1/auth/token",
        content=b"x" * (1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert declared.status_code == 413


def test_streamed_body_is_cut_at_the_limit() -> None:
    received = 0
    app_called = False

    async def receive() -> Message:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": received < 320}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal app_called
        app_called = True

    guard = InputGuardMiddleware(inner, limits=BodyLimits(1 << 24, 64 * 1024), token_ok=lambda _t: False)
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/events",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")],
    }
    asyncio.run(guard(scope, receive, send))
    assert sent[0]["status"] == 413 and not app_called
    assert received == 2  # refused as soon as the stream passed 64 KiB, not after 20 MB


def test_authenticated_body_limit(client: TestClient, admin_token: str) -> None:
    response = client.post(
        "/api/v1/events",
        content=b"{" + b" " * (200 * 1024) + b"}",
        headers={**bearer(admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 422  # read (under the authenticated limit) and validated


def test_forwarded_for_only_from_trusted_proxies() -> None:
    assert client_address("10.0.0.5", "1.2.3.4", ()) == "10.0.0.5"
    assert client_address("10.0.0.5", "1.2.3.4", ("192.168.0.0/16",)) == "10.0.0.5"
    assert client_address("10.0.0.5", "1.2.3.4", ("10.0.0.0/8",)) == "1.2.3.4"
    assert client_address("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9", ("10.0.0.0/8",)) == "1.2.3.4"
    assert client_address("10.0.0.5", "garbage", ("10.0.0.0/8",)) == "10.0.0.5"


def test_audit_ignores_forwarded_for_from_untrusted_peer(client: TestClient, hub: HubService) -> None:
    client.post(
        "/api/v1/auth/token",
        data={"username": "admin", "password": "wrong-password-0"},
        headers={"X-Forwarded-For": "203.0.113.66"},
    )
    records = hub.audit.entries(20, action="auth.")
    assert records and all("203.0.113.66" not in str(record.detail) for record in records)


def test_trusted_proxy_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        ApiSettings(jwt_secret=SecretStr("k" * 40), trusted_proxies=("not-an-address",))


def test_unhandled_error_carries_security_headers(hub: HubService, settings: ApiSettings) -> None:
    app: FastAPI = create_app(hub, settings)

    @app.get("/api/v1/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app) as client:
        response = client.get("/api/v1/boom")
    assert response.status_code == 500 and "boom" not in response.text
    assert _has_security_headers(response.headers)
