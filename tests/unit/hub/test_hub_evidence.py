"""EvidenceStore: content addressing, atomic idempotent writes, name validation."""

import hashlib
from pathlib import Path

import pytest

from hwarang.hub.errors import IngestError
from hwarang.hub.evidence.store import EvidenceStore
from tests.hub_support import jpeg_bytes


def test_put_returns_sha_and_shards(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = jpeg_bytes(1)
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.path(sha) == tmp_path / sha[:2] / f"{sha}.jpg"
    assert store.get(sha) == data
    assert store.has(sha)


def test_put_is_idempotent_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = jpeg_bytes(2)
    assert store.put(data) == store.put(data)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].suffix == ".jpg"


def test_put_verified_rejects_mismatch_and_stores_nothing(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    wrong = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(IngestError, match="hash to"):
        store.put_verified(jpeg_bytes(3), wrong)
    assert not store.has(wrong)
    assert not any(tmp_path.rglob("*.jpg"))


def test_put_verified_accepts_match(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = jpeg_bytes(4)
    sha = hashlib.sha256(data).hexdigest()
    assert store.put_verified(data, sha) == sha
    assert store.get(sha) == data


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "A" * 64, "a" * 63, "a" * 65, "g" * 64, "", "/" + "a" * 63, "a" * 62 + "/."],
)
def test_malformed_names_are_rejected(tmp_path: Path, name: str) -> None:
    store = EvidenceStore(tmp_path)
    assert store.path(name) is None
    assert not store.has(name)
    with pytest.raises(ValueError, match="64 lowercase hex"):
        store.get(name)
    with pytest.raises(IngestError, match="not a SHA-256"):
        store.put_verified(b"x", name)


def test_get_missing_raises_file_not_found(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    with pytest.raises(FileNotFoundError, match="not in"):
        store.get("0" * 64)
    assert store.path("0" * 64) is None
