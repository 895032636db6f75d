"""Center signing keys (Ed25519) and signing each event before it leaves the edge.

A key file is the PKCS#8 PEM private key, mode 0600; the public key is handed to the hubs as the
base64 of its 32 raw bytes (``hwarang keys generate`` prints it). See docs/security.md.
"""

import base64
import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwarang.domain import EventMessage
from hwarang.domain.event import EventSignature
from hwarang.domain.provenance import signed_payload
from hwarang.edge.config import CenterConfig
from hwarang.edge.errors import EdgeError


def public_key_text(key: Ed25519PrivateKey) -> str:
    """Base64 of the raw 32-byte public key, as registered at the hubs."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write ``key`` as PKCS#8 PEM with mode 0600 (created so, never readable by others)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def generate_key(path: Path) -> Ed25519PrivateKey:
    """A new key written to ``path`` (refuses to overwrite an existing file)."""
    if path.exists():
        raise EdgeError(f"{path} exists; remove it first to replace the key")
    key = Ed25519PrivateKey.generate()
    write_private_key(path, key)
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a key file; refuses one that group or others may read."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise EdgeError(f"cannot read signing key {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise EdgeError(f"signing key {path} is readable by others (mode {mode & 0o777:o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise EdgeError(f"{path} is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise EdgeError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key at ``path``, generated there first if missing (the embedded demo's site key)."""
    return load_private_key(path) if path.exists() else generate_key(path)


class EventSigner:
    """Signs events of one center with its key."""

    def __init__(self, center_id: str, key: Ed25519PrivateKey) -> None:
        self.center_id = center_id
        self._key = key

    @property
    def public_key(self) -> str:
        """The base64 public key hubs verify with."""
        return public_key_text(self._key)

    def sign(self, message: EventMessage) -> EventMessage:
        """``message`` with its signature set (over the event's JSON exactly as it will be sent)."""
        if message.event.center_id != self.center_id:
            raise EdgeError(
                f"event {message.event.id} is for center {message.event.center_id!r}; "
                f"this key signs for {self.center_id!r}"
            )
        event_json = json.loads(message.event.model_dump_json())
        value = base64.b64encode(self._key.sign(signed_payload(event_json))).decode("ascii")
        signature = EventSignature(center_id=self.center_id, value=value)
        return message.model_copy(update={"signature": signature})


def center_signers(centers: Sequence[CenterConfig]) -> dict[str, EventSigner]:
    """A signer for every center that names a ``signing_key`` (by center id)."""
    return {
        c.id: EventSigner(c.id, load_private_key(c.signing_key)) for c in centers if c.signing_key is not None
    }
