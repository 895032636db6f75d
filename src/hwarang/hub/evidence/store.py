"""Content-addressed store for evidence (snapshot JPEGs, event clips), named by the SHA-256 of their bytes."""

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from hwarang.hub.errors import IngestError

logger = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: str) -> bool:
    """True when ``value`` is 64 lowercase hex digits (the only names the store accepts)."""
    return _SHA256.fullmatch(value) is not None


class EvidenceStore:
    """Files under ``root/<first two hex>/<sha256><suffix>``; writes are atomic and idempotent.

    ``suffix`` is ``.jpg`` for snapshots; the clip store is another instance with ``.mp4``.
    """

    def __init__(self, root: Path, *, suffix: str = ".jpg") -> None:
        self.root = Path(root)
        self.suffix = suffix

    def _file(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"evidence name must be 64 lowercase hex digits, got {sha256[:80]!r}")
        return self.root / sha256[:2] / f"{sha256}{self.suffix}"

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self._file(sha256)
        if target.is_file():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        logger.debug("stored evidence %s (%d bytes)", sha256, len(data))
        return sha256

    def put_verified(self, data: bytes, sha256: str) -> str:
        """Store ``data`` only if it hashes to ``sha256``; IngestError otherwise."""
        if not is_sha256(sha256):
            raise IngestError(
                f"snapshot reference {sha256[:80]!r} is not a SHA-256 (64 lowercase hex digits)"
            )
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise IngestError(f"snapshot bytes hash to {actual}, but the event references {sha256}")
        return self.put(data)

    def path(self, sha256: str) -> Path | None:
        """Path of the stored file, or None when it is not held (or the name is not a SHA-256)."""
        if not is_sha256(sha256):
            return None
        target = self._file(sha256)
        return target if target.is_file() else None

    def has(self, sha256: str) -> bool:
        """True when the store holds ``sha256``."""
        return self.path(sha256) is not None

    def get(self, sha256: str) -> bytes:
        """The stored bytes; ValueError for a malformed name, FileNotFoundError when not held."""
        target = self._file(sha256)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"evidence {sha256} is not in {self.root}") from None
