"""OpenID Connect: accept access or ID tokens signed by an agency's own identity provider.

Each configured issuer has a key source (a JWKS file for air-gapped sites, or a JWKS URL inside
the network) and says which claims carry the user name, agency, jurisdiction, roles and clearance.
A token is accepted when its signature, ``iss``, ``aud``, ``exp`` and ``nbf`` verify and its claims
map to a valid user: a registered agency the issuer may speak for, a jurisdiction within that
agency's, at least one non-admin role, and a user name that is not a local account.
"""

import hashlib
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt

from hwarang.api.settings import ApiSettings, OidcIssuerSettings
from hwarang.api.tokens import TokenError
from hwarang.domain import Agency, Classification, Role, User

logger = logging.getLogger(__name__)

GRANTABLE_ROLES = frozenset(Role) - {Role.ADMIN}
"""Roles an external provider can confer; administration stays with local accounts."""
_USERNAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_JURISDICTION = re.compile(r"^(\d{2}|\d{5})$")
_CLEARANCE_ORDER = list(Classification)
_MAX_REMEMBERED = 10_000


class OidcError(TokenError):
    """A token of a configured provider is refused; the message says why."""


class OidcKeysUnavailableError(OidcError):
    """The provider's signing keys cannot be fetched (its JWKS URL does not answer)."""


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    """The verified, mapped claims of a provider's token (database checks still to come)."""

    issuer: str
    subject: str
    username: str
    display_name: str
    agency_code: str
    jurisdiction_code: str | None
    roles: tuple[Role, ...]
    clearance: Classification
    token_id: str
    expires_at: int


class _KeySource(Protocol):
    def key_for(self, token: str, kid: str | None) -> jwt.PyJWK: ...


class _FileKeys:
    """Keys read once from a JWKS file."""

    def __init__(self, issuer: str, path: Path) -> None:
        try:
            self._keys = jwt.PyJWKSet.from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"OIDC issuer {issuer!r}: cannot read JWKS file {path}: {exc}") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise ValueError(
                f"OIDC issuer {issuer!r}: JWKS file {path} is not a usable key set: {exc}"
            ) from exc

    def key_for(self, token: str, kid: str | None) -> jwt.PyJWK:
        keys = list(self._keys.keys)
        if kid is None:
            if len(keys) == 1:
                return keys[0]
            raise OidcError("token has no 'kid' header and the issuer has several keys")
        for key in keys:
            if key.key_id == kid:
                return key
        raise OidcError(f"no signing key with kid {kid!r} in the issuer's key set")


class _UrlKeys:
    """Keys fetched from a JWKS URL and cached."""

    def __init__(self, url: str, cache_s: int) -> None:
        self._url = url
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=cache_s, timeout=5)

    def key_for(self, token: str, kid: str | None) -> jwt.PyJWK:
        try:
            return self._client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise OidcKeysUnavailableError(f"cannot fetch signing keys from {self._url}: {exc}") from exc
        except jwt.PyJWTError as exc:
            raise OidcError(f"no usable signing key at {self._url}: {exc}") from exc


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by dotted path into nested objects (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def jurisdiction_within(inner: str, outer: str | None) -> bool:
    """Whether sido/sigungu code ``inner`` lies in ``outer`` (None: the whole nation)."""
    return outer is None or inner == outer or (len(outer) == 2 and inner.startswith(outer))


class _Issuer:
    def __init__(self, settings: OidcIssuerSettings) -> None:
        self.settings = settings
        if settings.jwks_file is not None:
            self.keys: _KeySource = _FileKeys(settings.issuer, settings.jwks_file)
        elif settings.jwks_url is not None:
            self.keys = _UrlKeys(settings.jwks_url, settings.jwks_cache_s)
        else:  # excluded by the settings validator
            raise ValueError(f"OIDC issuer {settings.issuer!r} has no key source")

    def decode(self, token: str) -> dict[str, Any]:
        cfg = self.settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise OidcError(f"invalid token from {cfg.issuer}: {exc}") from exc
        kid = header.get("kid")
        key = self.keys.key_for(token, kid if isinstance(kid, str) else None)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(cfg.algorithms),
                audience=cfg.audience,
                issuer=cfg.issuer,
                leeway=cfg.leeway_s,
                options={"require": ["iss", "aud", "exp", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise OidcError(f"token from {cfg.issuer} expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise OidcError(f"token from {cfg.issuer} not valid yet (nbf/iat in the future)") from exc
        except jwt.InvalidAudienceError as exc:
            raise OidcError(f"token from {cfg.issuer} is not meant for audience {cfg.audience!r}") from exc
        except jwt.InvalidSignatureError as exc:
            raise OidcError(f"token from {cfg.issuer}: signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise OidcError(f"invalid token from {cfg.issuer}: {exc}") from exc
        return claims

    def identity(self, token: str, claims: Mapping[str, Any]) -> OidcIdentity:
        cfg = self.settings
        subject = str(claims["sub"])
        raw_name = _claim(claims, cfg.username_claim)
        name = f"{cfg.username_prefix}{raw_name if isinstance(raw_name, str) and raw_name else subject}"
        if not _USERNAME.match(name):
            raise OidcError(
                f"user name {name!r} from {cfg.issuer} is not valid here (letters, digits, _ . -)"
            )
        agency = _claim(claims, cfg.agency_claim)
        if not isinstance(agency, str) or not agency:
            raise OidcError(f"token from {cfg.issuer} has no agency claim {cfg.agency_claim!r}")
        if agency not in cfg.allowed_agencies:
            raise OidcError(f"issuer {cfg.issuer} may not speak for agency {agency!r}")
        jurisdiction = _claim(claims, cfg.jurisdiction_claim)
        if jurisdiction is not None and not (
            isinstance(jurisdiction, str) and _JURISDICTION.match(jurisdiction)
        ):
            raise OidcError(f"jurisdiction claim {jurisdiction!r} is not a 2- or 5-digit region code")
        named = _names(_claim(claims, cfg.roles_claim))
        roles = tuple(role for role in Role if role.value in named and role in GRANTABLE_ROLES)
        if not roles:
            allowed = ", ".join(sorted(role.value for role in GRANTABLE_ROLES))
            raise OidcError(
                f"token from {cfg.issuer} grants no Hwarang role (claim {cfg.roles_claim!r}: {allowed})"
            )
        display = _claim(claims, cfg.display_name_claim)
        jti = claims.get("jti")
        return OidcIdentity(
            issuer=cfg.issuer,
            subject=subject,
            username=name,
            display_name=display if isinstance(display, str) and display else name,
            agency_code=agency,
            jurisdiction_code=jurisdiction,
            roles=roles,
            clearance=self._clearance(_claim(claims, cfg.clearance_claim)),
            token_id=str(jti) if jti else hashlib.sha256(token.encode()).hexdigest()[:32],
            expires_at=int(claims["exp"]),
        )

    def _clearance(self, claimed: Any) -> Classification:
        ceiling = self.settings.max_clearance
        try:
            wanted = Classification(claimed) if claimed is not None else Classification.RESTRICTED
        except ValueError as exc:
            raise OidcError(
                f"clearance claim {claimed!r} is not one of {[c.value for c in Classification]}"
            ) from exc
        return min(wanted, ceiling, key=_CLEARANCE_ORDER.index)


class OidcVerifier:
    """Verifies tokens of the configured providers and maps them to users."""

    def __init__(self, issuers: Sequence[OidcIssuerSettings]) -> None:
        self._issuers = {cfg.issuer: _Issuer(cfg) for cfg in issuers}
        self._seen: dict[tuple[str, str], int] = {}
        self._seen_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> "OidcVerifier | None":
        """A verifier for ``settings.oidc_issuers``, or None when OIDC is off (reads JWKS files)."""
        if not settings.oidc_issuers:
            return None
        verifier = cls(settings.oidc_issuers)
        logger.info("OIDC enabled for issuers: %s", ", ".join(verifier.issuers))
        return verifier

    @property
    def issuers(self) -> tuple[str, ...]:
        """The configured ``iss`` values."""
        return tuple(self._issuers)

    def accepts(self, issuer: str | None) -> bool:
        """Whether ``issuer`` is a configured provider."""
        return issuer is not None and issuer in self._issuers

    def verify(self, token: str, issuer: str) -> OidcIdentity:
        """Check signature, iss, aud, exp, nbf and map the claims; raise :class:`OidcError` saying why not."""
        provider = self._issuers.get(issuer)
        if provider is None:
            raise OidcError(f"issuer {issuer!r} is not configured")
        return provider.identity(token, provider.decode(token))

    def to_user(self, identity: OidcIdentity, agency: Agency | None, *, local_account: bool) -> User:
        """The user of ``identity``; ``agency`` is the registered agency of its code (None: unknown)."""
        if local_account:
            raise OidcError(
                f"user name {identity.username!r} from {identity.issuer} belongs to a local account; "
                "configure a username_prefix for this issuer"
            )
        if agency is None:
            raise OidcError(f"agency {identity.agency_code!r} from {identity.issuer} is not registered")
        jurisdiction = identity.jurisdiction_code
        if jurisdiction is None:
            jurisdiction = agency.jurisdiction_code
        elif not jurisdiction_within(jurisdiction, agency.jurisdiction_code):
            raise OidcError(
                f"jurisdiction {jurisdiction!r} lies outside agency {agency.code!r}'s "
                f"jurisdiction {agency.jurisdiction_code!r}"
            )
        return User(
            username=identity.username,
            display_name=identity.display_name,
            agency_code=agency.code,
            jurisdiction_code=jurisdiction,
            roles=identity.roles,
            clearance=identity.clearance,
        )

    def first_use(self, identity: OidcIdentity) -> bool:
        """True the first time this process sees the token (so it is audited once)."""
        key = (identity.issuer, identity.token_id)
        now = int(time.time())
        with self._seen_lock:
            if key in self._seen:
                return False
            if len(self._seen) >= _MAX_REMEMBERED:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
                if len(self._seen) >= _MAX_REMEMBERED:
                    self._seen.clear()
            self._seen[key] = identity.expires_at
            return True
