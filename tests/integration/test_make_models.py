"""`make models`: idempotent and cached; a corrupt model fails clearly, naming the file."""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hwarang.edge.analytics.detectors import NanoDetDetectorConfig, build_detector, describe_detector
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.models import ModelStore, ModelStoreError
from hwarang.edge.models.nanodet_build import (
    CACHE_ENV,
    MODEL_NAME,
    SOURCE_FILES,
    BuildError,
    build,
    cached_onnx,
    fetch_sources,
    verify_onnx,
)
from hwarang.edge.models.store import CARD_FILE, STORE_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def converted() -> Path:
    """The converted ONNX of the repository's store (`make models` ran before the tests)."""
    try:
        stored = ModelStore(REPO_ROOT / "var" / "models").get(MODEL_NAME)
    except ModelStoreError as exc:
        pytest.fail(f"the NanoDet model is not usable ({exc}); run `make models` first")
    return stored.path


def test_make_models_imports_from_the_cache_then_does_nothing(converted: Path, tmp_path: Path) -> None:
    cache, store = tmp_path / "cache", tmp_path / "store"
    cache.mkdir()
    shutil.copyfile(converted, cached_onnx(cache))
    env = dict(os.environ, **{CACHE_ENV: str(cache), STORE_ENV: str(store)})
    command = ["make", "-s", "--no-print-directory", "models"]

    first = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "model nanodet: imported from cache" in first.stdout, first.stdout
    card = store / MODEL_NAME / CARD_FILE
    written = card.stat().st_mtime_ns

    started = time.monotonic()
    second = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    assert "model nanodet: present" in second.stdout, second.stdout
    assert elapsed < 15.0, f"a second `make models` took {elapsed:.1f} s"
    assert card.stat().st_mtime_ns == written
    assert sorted(p.name for p in (store / MODEL_NAME).iterdir()) == sorted([CARD_FILE, converted.name])
    stored = ModelStore(store).get(MODEL_NAME)
    assert stored.card.source_files == SOURCE_FILES


def test_a_corrupt_model_in_the_store_fails_naming_the_file(converted: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(converted.parent, store / MODEL_NAME)
    model_file = store / MODEL_NAME / converted.name
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    config = NanoDetDetectorConfig(type="onnx-nanodet", model=MODEL_NAME, model_store=store)

    with pytest.raises(ModelStoreError, match=re.escape(f"{model_file} is corrupt or was changed: SHA-256")):
        build_detector(config)  # a corrupt model never falls back to motion-only

    with pytest.raises(ModelStoreError, match="and run `make models` again"):
        build(ModelStore(store), tmp_path / "cache")


def test_a_truncated_cached_model_is_refused_naming_the_file(converted: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    cached = cached_onnx(cache)
    cached.write_bytes(converted.read_bytes()[:4096])
    with pytest.raises(BuildError, match=re.escape(f"{cached} is not a loadable ONNX model")):
        verify_onnx(cached)
    with pytest.raises(BuildError, match=re.escape(str(cached))):
        build(ModelStore(tmp_path / "store"), cache)
    assert not (tmp_path / "store" / MODEL_NAME).exists()


def test_an_unloadable_model_file_fails_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "nanodet.onnx"
    bad.write_bytes(b"not an onnx graph")
    with pytest.raises(AnalyticsError, match=re.escape(f"{bad} is not a loadable ONNX model")):
        build_detector(NanoDetDetectorConfig(type="onnx-nanodet", model_path=bad))


def test_a_missing_model_falls_back_to_motion_only_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = NanoDetDetectorConfig(type="onnx-nanodet", model=MODEL_NAME, model_store=tmp_path / "empty")
    with caplog.at_level("WARNING"):
        detector = build_detector(config)
    info = describe_detector(detector)
    assert info is not None and info.kind == "motion"
    assert any("FALLING BACK to the motion-only detector" in r.message for r in caplog.records)
    with pytest.raises(ModelStoreError, match="no model 'nanodet'"):
        build_detector(config.model_copy(update={"fallback": "error"}))


def test_without_npm_the_build_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="needs npm on PATH"):
        fetch_sources(tmp_path, npm="no-such-npm-here")


def test_an_unreachable_registry_is_named(tmp_path: Path) -> None:
    fake = tmp_path / "npm"
    fake.write_text("#!/bin/sh\necho 'npm error code ENOTFOUND' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(BuildError, match=r"(?s)from the npm registry \(is it reachable\?.*ENOTFOUND"):
        fetch_sources(tmp_path, npm=str(fake))
