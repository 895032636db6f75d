"""API settings, read once at start-up from ``HWARANG_API_*`` environment variables."""

import logging
import os
import secrets
import stat
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

_MIN_SECRET_LEN = 32


class ApiSettings(BaseSettings):
    """How the HTTP/WebSocket API authenticates, and how it treats live clients."""

    model_config = SettingsConfigDict(env_prefix="HWARANG_API_", extra="forbid")

    jwt_secret: SecretStr | None = Field(
        default=None,
        min_length=_MIN_SECRET_LEN,
        description=(
            "HS256 key signing access tokens (at least 32 characters). When unset, a random key is "
            "generated once and kept (mode 0600) in secret_file."
        ),
    )
    secret_file: Path | None = Field(
        default=None,
        description=(
            "File keeping the generated JWT key when jwt_secret is unset, e.g. <data dir>/jwt.secret. "
            "When both are unset the key lives only in memory and every token dies with the process."
        ),
    )
    token_ttl_s: int = Field(
        default=8 * 3600, gt=0, le=7 * 24 * 3600, description="Lifetime of an access token in seconds."
    )
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="Origins allowed to call the API from another site; empty (the default) disables CORS.",
    )
    ws_queue_size: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description=(
            "Incidents buffered per WebSocket client; a client that falls further behind is disconnected "
            "and resumes from its last seen sequence number."
        ),
    )
    ws_replay_max: int = Field(
        default=10_000,
        ge=1,
        description="Most incidents replayed to one WebSocket client on resume (the newest are kept).",
    )

    def signing_key(self) -> str:
        """The JWT signing key: configured, persisted in secret_file, or (last resort) per process."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.secret_file is not None:
            return load_or_create_secret(self.secret_file)
        logger.warning("no jwt_secret and no secret_file: in-memory key; tokens end with the process")
        return secrets.token_urlsafe(48)


def load_or_create_secret(path: Path) -> str:
    """Read the secret stored at ``path``, or create it (random, file mode 0600) if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)
    logger.info("generated a new API signing key in %s", path)
    return secret


def _read_secret(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("signing key file %s is readable by others (mode %o); tightening to 0600", path, mode)
        path.chmod(0o600)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < _MIN_SECRET_LEN:
        raise ValueError(
            f"signing key in {path} is {len(secret)} characters; expected at least {_MIN_SECRET_LEN} "
            "(delete the file to generate a new key)"
        )
    return secret
