"""Fixtures of the source unit tests."""

from pathlib import Path

import pytest

from tests.unit.edge.sources.source_clips import write_clip


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-frame 160x120 clip at 20 fps."""
    return write_clip(tmp_path_factory.mktemp("clips") / "small.avi")
