"""API settings and the persisted signing key."""

import logging
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from hwarang.api.logfilter import redact
from hwarang.api.settings import ApiSettings, load_or_create_secret


def test_secret_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "jwt"

    first = load_or_create_secret(path)
    second = load_or_create_secret(path)

    assert first == second
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_loose_permissions_are_tightened_and_short_secret_rejected(tmp_path: Path) -> None:
    path = tmp_path / "jwt"
    path.write_text("x" * 40, encoding="ascii")
    path.chmod(0o644)

    assert load_or_create_secret(path) == "x" * 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    path.write_text("short", encoding="ascii")
    with pytest.raises(ValueError, match="at least 32"):
        load_or_create_secret(path)


def test_signing_key_prefers_configured_then_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt.secret"
    configured = ApiSettings(jwt_secret=SecretStr("c" * 32), secret_file=secret_file)
    persisted = ApiSettings(secret_file=secret_file)

    assert configured.signing_key() == "c" * 32
    assert not secret_file.exists()
    assert persisted.signing_key() == ApiSettings(secret_file=secret_file).signing_key()
    assert secret_file.is_file()
    assert ApiSettings().signing_key() != ApiSettings().signing_key()


def test_settings_read_env_and_forbid_unknown_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWARANG_API_TOKEN_TTL_S", "600")

    assert ApiSettings().token_ttl_s == 600
    assert ApiSettings().cors_origins == ()
    with pytest.raises(ValidationError, match="tokn_ttl"):
        ApiSettings(tokn_ttl=5)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="jwt_secret"):
        ApiSettings(jwt_secret=SecretStr("too-short"))


def test_every_setting_is_described() -> None:
    missing = [name for name, field in ApiSettings.model_fields.items() if not field.description]

    assert missing == []


def test_tokens_in_websocket_urls_are_redacted_from_server_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5555", "/api/v1/ws?token=eyJhbGciOi.secret.sig&x=1"),
        None,
    )
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        logging.getLogger("uvicorn.error").handle(record)

    assert "/api/v1/ws?token=***&x=1" in caplog.text
    assert "eyJhbGciOi" not in caplog.text
    assert redact("GET /x?access_token=abc HTTP/1.1") == "GET /x?access_token=*** HTTP/1.1"
