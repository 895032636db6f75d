"""Shared fixtures: paths to the real test data beside the project."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real videos, ground truth and models (never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        raise FileNotFoundError(f"test data folder not found: {SHARED_DATA} (expected ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def vtest_path(shared_data: Path) -> Path:
    """The PETS 2009 S2L1 clip (768x576, 10 fps, 795 frames)."""
    return shared_data / "video" / "vtest_opencv_orig.avi"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: they are the slowest and need everything else working."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path))
