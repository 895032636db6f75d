"""Signed access tokens (JWT, HS256): issue for a user, verify and read back the claims."""

import time
import uuid
from dataclasses import dataclass

import jwt

from hwarang.domain import User

ALGORITHM = "HS256"
ISSUER = "hwarang"
_REQUIRED_CLAIMS = ["sub", "roles", "agency", "exp", "iat", "jti", "iss"]


class TokenError(Exception):
    """A token is missing, malformed, tampered with or expired."""


def unverified_issuer(token: str) -> str | None:
    """The ``iss`` claim of a JWT, read without checking anything (only to pick the verifier)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from exc
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified content of an access token."""

    subject: str
    roles: tuple[str, ...]
    agency: str
    token_id: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class TokenCodec:
    """Issues and verifies the API's access tokens."""

    key: str
    ttl_s: int
    leeway_s: int = 5

    def issue(self, user: User, *, now: float | None = None) -> str:
        """A signed token for ``user`` valid for ``ttl_s`` seconds from ``now``."""
        issued_at = int(time.time() if now is None else now)
        claims: dict[str, object] = {
            "sub": user.username,
            "roles": [str(role) for role in user.roles],
            "agency": user.agency_code,
            "iat": issued_at,
            "exp": issued_at + self.ttl_s,
            "jti": uuid.uuid4().hex,
            "iss": ISSUER,
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        """Check signature, issuer and expiry; raise ``TokenError`` saying what is wrong."""
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                leeway=self.leeway_s,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        subject, roles, agency = claims["sub"], claims["roles"], claims["agency"]
        if not isinstance(subject, str) or not isinstance(agency, str) or not isinstance(roles, list):
            raise TokenError("invalid token: sub and agency must be strings and roles a list")
        return TokenClaims(
            subject=subject,
            roles=tuple(str(role) for role in roles),
            agency=agency,
            token_id=str(claims["jti"]),
            expires_at=int(claims["exp"]),
        )
