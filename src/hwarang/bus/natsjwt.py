"""NATS decentralized authentication: an operator, the ``HWARANG`` account and user JWTs (nkeys).

Instead of passwords in server configs, every server trusts one **operator** and preloads the
**account** JWT the operator signed (memory resolver); each user (an edge, a hub, an agency, a
leaf link) holds a ``.creds`` file: a user JWT signed by the account, carrying the user's subject
permissions, and the user's nkey seed. Servers keep no user list: a user is whoever the account
signed. The operator and account seeds stay in the generator's key store (0600, offline).
"""

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nkeys

from hwarang.bus.base import BusError

ACCOUNT_NAME = "HWARANG"
_PREFIX = {
    "operator": nkeys.PREFIX_BYTE_OPERATOR,
    "account": nkeys.PREFIX_BYTE_ACCOUNT,
    "user": nkeys.PREFIX_BYTE_USER,
}
_UNLIMITED = {
    "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True,
    "conn": -1, "leaf": -1, "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1,
}  # fmt: skip


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def new_seed(kind: str) -> bytes:
    """A fresh nkey seed for an ``operator``, ``account`` or ``user``."""
    return bytes(nkeys.encode_seed(secrets.token_bytes(32), _PREFIX[kind]))


def public_key(seed: bytes) -> str:
    """The public nkey (``O...``, ``A...``, ``U...``) of a seed."""
    return bytes(nkeys.from_seed(bytearray(seed)).public_key).decode("ascii")


def encode_jwt(issuer_seed: bytes, subject: str, name: str, nats: Mapping[str, Any]) -> str:
    """A NATS v2 JWT for ``subject`` signed by the issuer's nkey (alg ``ed25519-nkey``)."""
    claims: dict[str, Any] = {
        "iat": int(time.time()),
        "iss": public_key(issuer_seed),
        "name": name,
        "sub": subject,
        "nats": {**nats, "version": 2},
    }
    digest = hashlib.sha512(json.dumps(claims, sort_keys=True).encode()).digest()[:32]
    claims["jti"] = base64.b32encode(digest).decode("ascii").rstrip("=")
    header = _b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64url(json.dumps(claims).encode())
    signature = nkeys.from_seed(bytearray(issuer_seed)).sign(f"{header}.{body}".encode())
    return f"{header}.{body}.{_b64url(bytes(signature))}"


def creds_text(user_jwt: str, user_seed: bytes) -> str:
    """A ``.creds`` file: the user JWT and its nkey seed (keep it 0600)."""
    return (
        "-----BEGIN NATS USER JWT-----\n"
        f"{user_jwt}\n"
        "------END NATS USER JWT------\n\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n"
        "NKEYs are sensitive and should be treated as secrets.\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{user_seed.decode('ascii')}\n"
        "------END USER NKEY SEED------\n\n"
        "*************************************************************\n"
    )


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)


class NatsAuthority:
    """The operator, the ``HWARANG`` account and the system account of one federation (0600 key store)."""

    def __init__(self, operator_seed: bytes, account_seed: bytes, system_seed: bytes) -> None:
        self._operator_seed = operator_seed
        self._account_seed = account_seed
        self._system_seed = system_seed

    @classmethod
    def load_or_create(cls, path: Path) -> "NatsAuthority":
        """The authority in ``path`` (JSON of the two seeds), created there first if missing."""
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                seeds = (data["operator_seed"], data["account_seed"], data["system_seed"])
                return cls(*(seed.encode() for seed in seeds))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise BusError(f"NATS key store {path} is unreadable: {exc}") from exc
        authority = cls(new_seed("operator"), new_seed("account"), new_seed("account"))
        store = {
            "operator_seed": authority._operator_seed.decode(),
            "account_seed": authority._account_seed.decode(),
            "system_seed": authority._system_seed.decode(),
        }
        _write_private(path, json.dumps(store, indent=2) + "\n")
        return authority

    @property
    def account_public_key(self) -> str:
        """The account's public nkey (what configs call the account)."""
        return public_key(self._account_seed)

    def operator_jwt(self) -> str:
        """The self-signed operator JWT every server trusts."""
        operator = public_key(self._operator_seed)
        return encode_jwt(self._operator_seed, operator, "hwarang", {"type": "operator"})

    def account_jwt(self) -> str:
        """The ``HWARANG`` account JWT (JetStream enabled, no limits) signed by the operator."""
        nats = {"type": "account", "limits": _UNLIMITED, "default_permissions": {"pub": {}, "sub": {}}}
        return encode_jwt(self._operator_seed, self.account_public_key, ACCOUNT_NAME, nats)

    def system_account_jwt(self) -> str:
        """The servers' system account (``SYS``), required by JetStream in operator mode."""
        nats = {
            "type": "account",
            "limits": _UNLIMITED | {"mem_storage": 0, "disk_storage": 0, "streams": 0, "consumer": 0},
        }
        return encode_jwt(self._operator_seed, public_key(self._system_seed), "SYS", nats)

    def user_creds(self, name: str, permissions: Mapping[str, Any] | None = None) -> str:
        """A ``.creds`` text for user ``name``; ``permissions`` as in a server config (publish/subscribe)."""
        seed = new_seed("user")
        nats: dict[str, Any] = {"type": "user", "subs": -1, "data": -1, "payload": -1}
        if permissions:
            for ours, theirs in (("publish", "pub"), ("subscribe", "sub")):
                rule = permissions.get(ours)
                if isinstance(rule, Mapping):
                    nats[theirs] = {k: list(v) for k, v in rule.items() if k in ("allow", "deny")}
        return creds_text(encode_jwt(self._account_seed, public_key(seed), name, nats), seed)

    def write_user_creds(self, path: Path, name: str, permissions: Mapping[str, Any] | None = None) -> Path:
        """Write ``name``'s creds to ``path`` (mode 0600)."""
        _write_private(path, self.user_creds(name, permissions))
        return path

    def server_block(self, out_dir: Path) -> dict[str, object]:
        """Config entries of a server in operator mode (writes ``operator.jwt`` into ``out_dir``)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        operator_path = out_dir / "operator.jwt"
        operator_path.write_text(self.operator_jwt() + "\n", encoding="utf-8")
        system = public_key(self._system_seed)
        return {
            "operator": str(operator_path),
            "system_account": system,
            "resolver": "MEMORY",
            "resolver_preload": {
                self.account_public_key: self.account_jwt(),
                system: self.system_account_jwt(),
            },
        }
