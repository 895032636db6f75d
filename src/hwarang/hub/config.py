"""Hub settings, read once at start-up from ``HWARANG_HUB_*`` environment variables."""

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEFAULT_DATA_DIR = Path("var/hub")


def _default_database_url(data: dict[str, Any]) -> str:
    return f"sqlite:///{Path(data.get('data_dir', _DEFAULT_DATA_DIR)) / 'hub.sqlite3'}"


def _default_evidence_dir(data: dict[str, Any]) -> Path:
    return Path(data.get("data_dir", _DEFAULT_DATA_DIR)) / "evidence"


class HubSettings(BaseSettings):
    """Where the hub keeps its database and evidence files."""

    model_config = SettingsConfigDict(env_prefix="HWARANG_HUB_", extra="forbid")

    data_dir: Path = Field(
        default=_DEFAULT_DATA_DIR,
        description="Folder for the hub's own files (SQLite database, evidence).",
    )
    database_url: str = Field(
        default_factory=_default_database_url,
        description=(
            "SQLAlchemy database URL: sqlite:///<file> (embedded) or postgresql://user:pass@host/db. "
            "Defaults to <data_dir>/hub.sqlite3."
        ),
    )
    evidence_dir: Path = Field(
        default_factory=_default_evidence_dir,
        description="Folder of the content-addressed snapshot store. Defaults to <data_dir>/evidence.",
    )
