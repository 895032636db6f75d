"""API settings, read once at start-up from ``HWARANG_API_*`` environment variables."""

import ipaddress
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hwarang.domain import Classification

logger = logging.getLogger(__name__)

_MIN_SECRET_LEN = 32
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
)
"""Signature algorithms accepted from identity providers (never HS*: the JWKS is public)."""


class OidcIssuerSettings(BaseModel):
    """One external identity provider whose access or ID tokens the API accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(
        min_length=1, description="Exact `iss` value of its tokens, e.g. https://idp.example/realms/ops."
    )
    audience: str = Field(
        min_length=1,
        description="Required `aud` value: the client id or API identifier registered for Hwarang.",
    )
    jwks_file: Path | None = Field(
        default=None,
        description="JSON Web Key Set file with its public keys (air-gapped sites); read at start-up.",
    )
    jwks_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="URL of its JSON Web Key Set inside the network; fetched on demand and cached.",
    )
    jwks_cache_s: int = Field(
        default=300, ge=10, le=86_400, description="How long keys fetched from jwks_url are kept."
    )
    algorithms: tuple[str, ...] = Field(
        default=("RS256", "ES256"),
        min_length=1,
        description="Signature algorithms accepted (asymmetric only).",
    )
    allowed_agencies: tuple[str, ...] = Field(
        min_length=1,
        description="Agency codes this provider may speak for; tokens naming another agency are refused.",
    )
    username_claim: str = Field(
        default="preferred_username", description="Claim holding the user name (falls back to `sub`)."
    )
    username_prefix: str = Field(
        default="",
        pattern=r"^[a-zA-Z0-9_.-]{0,16}$",
        description="Prefix of the user names (e.g. `police.`), keeping them apart from local users.",
    )
    display_name_claim: str = Field(default="name", description="Claim holding the person's display name.")
    agency_claim: str = Field(
        default="agency", description="Claim holding the agency code (a registered agency)."
    )
    jurisdiction_claim: str = Field(
        default="jurisdiction",
        description="Claim holding a sido or sigungu code; absent: the agency's own jurisdiction.",
    )
    roles_claim: str = Field(
        default="roles", description="Claim holding Hwarang role names (a list or a space-separated string)."
    )
    clearance_claim: str = Field(
        default="clearance", description="Claim holding the user's clearance, if any."
    )
    max_clearance: Classification = Field(
        default=Classification.RESTRICTED,
        description="Highest clearance a token of this provider can confer.",
    )
    leeway_s: int = Field(default=30, ge=0, le=300, description="Clock skew tolerated on exp, nbf and iat.")

    @model_validator(mode="after")
    def _one_key_source(self) -> Self:
        if (self.jwks_file is None) == (self.jwks_url is None):
            raise ValueError(f"OIDC issuer {self.issuer!r}: set exactly one of jwks_file and jwks_url")
        unsupported = sorted(set(self.algorithms) - ASYMMETRIC_ALGORITHMS)
        if unsupported:
            raise ValueError(
                f"OIDC issuer {self.issuer!r}: algorithms {unsupported} not allowed; "
                f"use some of {sorted(ASYMMETRIC_ALGORITHMS)}"
            )
        if self.issuer == "hwarang":
            raise ValueError("OIDC issuer 'hwarang' is reserved for the hub's own tokens")
        return self


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
        default=15 * 60,
        gt=0,
        le=24 * 3600,
        description="Lifetime of an access token in seconds; clients renew it with their refresh token.",
    )
    refresh_ttl_s: int = Field(
        default=12 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description=(
            "Lifetime of a login's refresh tokens in seconds, counted from the login: rotation does "
            "not extend it, so a session ends this long after the password was given."
        ),
    )
    lockout_max_failures: int = Field(
        default=5, ge=1, le=100, description="Wrong passwords in a row that lock an account."
    )
    lockout_minutes: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="How long a locked account refuses logins from addresses it does not know.",
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Failed logins in a row one client address may make before it must wait; each further "
            "failure doubles the wait (429 with Retry-After meanwhile)."
        ),
    )
    login_max_delay_s: int = Field(
        default=900, ge=1, le=24 * 3600, description="Longest wait imposed on one client address (seconds)."
    )
    known_address_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description=(
            "A locked account still accepts its right password from an address it logged in from "
            "successfully within this many days (0: a lock refuses everyone)."
        ),
    )
    oidc_issuers: tuple[OidcIssuerSettings, ...] = Field(
        default=(),
        description=(
            "External OpenID Connect providers whose tokens are accepted besides the hub's own "
            "(a JSON list); empty (the default) disables OIDC."
        ),
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
    max_body_bytes: int = Field(
        default=24 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description=(
            "Largest request body accepted from a request with a valid token (bytes); larger ones are "
            "refused with 413 before they are read. Keep it above the largest attachment."
        ),
    )
    max_unauthenticated_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description=(
            "Largest request body accepted without a valid bearer token (login forms, refresh), in bytes; "
            "checked before authentication."
        ),
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description=(
            "Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For header names the "
            "client; empty (the default): the header is ignored and the peer address is the client."
        ),
    )
    map_tiles: str | None = Field(
        default=None,
        max_length=512,
        pattern=r"^/[^/\s\"<>][^\s\"<>]*$",
        description=(
            "An XYZ raster tile URL path on the hub's own origin, e.g. '/tiles/{z}/{x}/{y}.png' (served by "
            "the reverse proxy in front of the hub), drawn under the map's boundaries; overrides the "
            "value the page was built with. Unset: no tiles (or the build's)."
        ),
    )

    @model_validator(mode="after")
    def _valid_proxies(self) -> Self:
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted_proxies: {entry!r} is not an address or CIDR network") from exc
        return self

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
