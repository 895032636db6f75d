"""HubSettings: defaults derived from data_dir, env prefix, forbidden extras, described fields."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from hwarang.hub.config import HubSettings


def test_defaults_follow_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HWARANG_HUB_DATA_DIR", str(tmp_path))
    settings = HubSettings()
    assert settings.data_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    assert settings.evidence_dir == tmp_path / "evidence"


def test_plain_defaults() -> None:
    settings = HubSettings()
    assert settings.data_dir == Path("var/hub")
    assert settings.evidence_dir == Path("var/hub/evidence")
    assert settings.database_url.startswith("sqlite:///")


def test_explicit_values_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HWARANG_HUB_DATABASE_URL", "postgresql://hub@db/hub")
    settings = HubSettings(evidence_dir=tmp_path / "ev")
    assert settings.database_url == "postgresql://hub@db/hub"
    assert settings.evidence_dir == tmp_path / "ev"


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="bogus"):
        HubSettings(bogus=1)  # type: ignore[call-arg]


def test_every_field_is_described() -> None:
    missing = [name for name, f in HubSettings.model_fields.items() if not f.description]
    assert missing == []
