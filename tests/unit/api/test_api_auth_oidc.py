"""OIDC: tokens of an agency's identity provider, verified against a local JWKS file or URL."""

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm
from pydantic import SecretStr, ValidationError

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings, OidcIssuerSettings
from hwarang.domain import Agency, AgencyKind
from hwarang.hub.service import HubService
from tests.unit.api.api_support import TEST_SECRET, bearer

ISSUER = "https://idp.police.test/realms/ops"
AUDIENCE = "hwarang-api"
KID = "police-2026"
ME = "/api/v1/auth/me"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _new_key()
OTHER_KEY = _new_key()


def _jwks(key: rsa.RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": [jwk]}


def _token(key: rsa.RSAPrivateKey = KEY, *, kid: str = KID, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "f3a1c2d4-0001",
        "preferred_username": "kim.police",
        "name": "Kim Police",
        "agency": "police-seoul",
        "roles": ["agency_liaison", "offline_access"],
        "iat": now,
        "exp": now + 300,
        "jti": f"jti-{now}-{time.perf_counter_ns()}",
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _issuer(**overrides: Any) -> OidcIssuerSettings:
    fields: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "allowed_agencies": ("police-seoul", "police-unregistered"),
        "username_prefix": "",
    }
    fields.update(overrides)
    return OidcIssuerSettings(**fields)


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "police-jwks.json"
    path.write_text(json.dumps(_jwks(KEY)), encoding="utf-8")
    return path


@pytest.fixture
def settings(jwks_file: Path) -> ApiSettings:
    """API settings trusting one police identity provider (overrides the conftest fixture)."""
    return ApiSettings(jwt_secret=SecretStr(TEST_SECRET), oidc_issuers=(_issuer(jwks_file=jwks_file),))


@pytest.fixture(autouse=True)
def police_agency(hub: HubService) -> None:
    hub.identity.agencies.upsert(
        [Agency(code="police-seoul", name="Seoul police", kind=AgencyKind.POLICE, jurisdiction_code="11")]
    )


def _me(client: TestClient, token: str) -> tuple[int, Any]:
    response = client.get(ME, headers=bearer(token))
    return response.status_code, response.json()


def test_valid_token_maps_to_a_user_and_is_audited_once(client: TestClient, hub: HubService) -> None:
    token = _token()

    status, body = _me(client, token)
    assert client.get("/api/v1/cameras", headers=bearer(token)).status_code == 200

    assert status == 200, body
    assert body["username"] == "kim.police"
    assert body["display_name"] == "Kim Police"
    assert body["agency_code"] == "police-seoul"
    assert body["jurisdiction_code"] == "11"
    assert body["roles"] == ["agency_liaison"]
    assert body["clearance"] == "restricted"
    logins = [e for e in hub.audit.entries(limit=50) if e.action == "auth.login"]
    assert len(logins) == 1
    assert logins[0].actor == "kim.police"
    assert logins[0].detail["method"] == "oidc"
    assert logins[0].detail["issuer"] == ISSUER


@pytest.mark.parametrize(
    ("token_kwargs", "reason"),
    [
        ({"iss": "https://evil.test/"}, "issuer 'https://evil.test/' is not accepted"),
        ({"aud": "someone-else"}, "not meant for audience 'hwarang-api'"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"key": OTHER_KEY}, "signature does not verify"),
        ({"kid": "rotated-away"}, "no signing key with kid 'rotated-away'"),
        ({"aud": None}, "aud"),
        ({"roles": ["admin"]}, "grants no Hwarang role"),
        ({"agency": "idhq"}, "may not speak for agency 'idhq'"),
        ({"agency": None}, "no agency claim"),
        (
            {"agency": "police-unregistered"},
            "'police-unregistered' from https://idp.police.test/realms/ops is not registered",
        ),
        ({"jurisdiction": "26"}, "lies outside agency 'police-seoul'"),
        ({"jurisdiction": "seoul"}, "not a 2- or 5-digit region code"),
        ({"preferred_username": "admin"}, "belongs to a local account"),
        ({"preferred_username": "kim police!"}, "is not valid here"),
        ({"clearance": "top-secret"}, "clearance claim 'top-secret'"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(
    client: TestClient, token_kwargs: dict[str, Any], reason: str
) -> None:
    kwargs = dict(token_kwargs)
    key = kwargs.pop("key", KEY)
    kid = kwargs.pop("kid", KID)

    status, body = _me(client, _token(key, kid=kid, **kwargs))

    assert status == 401, body
    assert reason in body["detail"]


def test_hs256_token_claiming_the_issuer_is_refused(client: TestClient) -> None:
    forged = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60, "agency": "police-seoul"},
        TEST_SECRET,
        algorithm="HS256",
        headers={"kid": KID},
    )
    status, body = _me(client, forged)
    assert status == 401
    assert "alg" in body["detail"]


def test_sub_jurisdiction_and_capped_clearance(client: TestClient) -> None:
    status, body = _me(client, _token(jurisdiction="11140", clearance="secret", roles="commander"))
    assert status == 200, body
    assert body["jurisdiction_code"] == "11140"
    assert body["clearance"] == "restricted"
    assert body["roles"] == ["commander"]


def test_admin_role_is_never_granted(client: TestClient) -> None:
    status, body = _me(client, _token(roles="operator admin"))
    assert status == 200, body
    assert body["roles"] == ["operator"]


def test_roles_follow_the_token_and_its_role_checks(client: TestClient) -> None:
    liaison = _token()
    denied = client.post("/api/v1/events", json={}, headers=bearer(liaison))
    assert denied.status_code == 403
    assert client.post("/api/v1/auth/logout", headers=bearer(liaison)).json() == {"revoked": 0}


def test_hwarang_tokens_still_work_with_oidc_enabled(client: TestClient, admin_token: str) -> None:
    status, body = _me(client, admin_token)
    assert status == 200
    assert body["username"] == "admin"


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    body = b"{}"
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def jwks_server() -> Iterator[str]:
    _JwksHandler.body = json.dumps(_jwks(KEY)).encode()
    _JwksHandler.hits = 0
    server = http.server.HTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _app_with(hub: HubService, issuer: OidcIssuerSettings) -> FastAPI:
    return create_app(hub, ApiSettings(jwt_secret=SecretStr(TEST_SECRET), oidc_issuers=(issuer,)))


def test_keys_fetched_from_a_jwks_url_are_cached(hub: HubService, jwks_server: str) -> None:
    with TestClient(_app_with(hub, _issuer(jwks_url=jwks_server))) as client:
        first, _ = _me(client, _token())
        second, _ = _me(client, _token())
        bad, body = _me(client, _token(OTHER_KEY))

    assert (first, second) == (200, 200)
    assert bad == 401
    assert "signature" in body["detail"]
    assert _JwksHandler.hits == 1


def test_unreachable_jwks_url_is_503(hub: HubService) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with TestClient(_app_with(hub, _issuer(jwks_url=f"http://127.0.0.1:{port}/certs"))) as client:
        response = client.get(ME, headers=bearer(_token()))

    assert response.status_code == 503
    assert "cannot fetch signing keys" in response.json()["detail"]


def test_issuer_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="exactly one of jwks_file and jwks_url"):
        _issuer()
    with pytest.raises(ValidationError, match="exactly one of jwks_file and jwks_url"):
        _issuer(jwks_file=tmp_path / "a.json", jwks_url="https://idp.test/certs")
    with pytest.raises(ValidationError, match="HS256"):
        _issuer(jwks_file=tmp_path / "a.json", algorithms=("HS256",))
    with pytest.raises(ValidationError, match="allowed_agencies"):
        _issuer(jwks_file=tmp_path / "a.json", allowed_agencies=())
    with pytest.raises(ValidationError, match="reserved"):
        _issuer(issuer="hwarang", jwks_file=tmp_path / "a.json")


def test_unusable_jwks_file_stops_start_up(hub: HubService, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"keys": []}', encoding="utf-8")

    with pytest.raises(ValueError, match="cannot read JWKS file"):
        _app_with(hub, _issuer(jwks_file=missing))
    with pytest.raises(ValueError, match="not a usable key set"):
        _app_with(hub, _issuer(jwks_file=garbage))


def test_oidc_issuers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, jwks_file: Path) -> None:
    value = [{"issuer": ISSUER, "audience": AUDIENCE, "jwks_file": str(jwks_file), "allowed_agencies": ["p"]}]
    monkeypatch.setenv("HWARANG_API_OIDC_ISSUERS", json.dumps(value))

    issuers = ApiSettings().oidc_issuers

    assert [(i.issuer, i.jwks_file, i.roles_claim) for i in issuers] == [(ISSUER, jwks_file, "roles")]
    assert ApiSettings.model_fields["oidc_issuers"].default == ()
