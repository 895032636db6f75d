"""FileSource on the real clips in ../shared/data, and on corrupted copies of them in tmp_path."""

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hwarang.edge.sources import FileSource, FileSourceConfig

pytestmark = pytest.mark.integration

logger = logging.getLogger(__name__)

VTEST_FRAMES = 795


def _source(path: Path, **kwargs: object) -> FileSource:
    return FileSource(FileSourceConfig.model_validate({"path": path, **kwargs}), camera_id="cam-it")


@dataclass
class Played:
    """What a run delivered, without holding every image (795 vtest frames are 1 GB)."""

    indexes: list[int] = field(default_factory=list)
    pts: list[float] = field(default_factory=list)
    images: dict[int, npt.NDArray[np.uint8]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.indexes)

    def assert_increasing(self) -> None:
        assert all(b > a for a, b in itertools.pairwise(self.pts))
        assert all(b > a for a, b in itertools.pairwise(self.indexes))


def _play(source: FileSource, *, limit: int | None = None, keep: tuple[int, ...] = ()) -> Played:
    played = Played()
    for frame in source.frames():
        played.indexes.append(frame.index)
        played.pts.append(frame.pts_s)
        if len(played) - 1 in keep:
            played.images[len(played) - 1] = frame.image
        if limit is not None and len(played) == limit:
            break
    return played


def _corrupt_copy(source: Path, target: Path, *, chunks: int, chunk_size: int, seed: int) -> Path:
    """Overwrite ``chunks`` runs of random bytes past the first 10 % (the header stays intact)."""
    data = bytearray(source.read_bytes())
    rng = np.random.default_rng(seed)
    if chunks <= 3:
        offsets = [len(data) * (k + 2) // (chunks + 3) for k in range(chunks)]
    else:
        offsets = [int(o) for o in rng.integers(len(data) // 10, len(data) - chunk_size, chunks)]
    for offset in offsets:
        data[offset : offset + chunk_size] = rng.integers(0, 256, chunk_size, dtype=np.uint8).tobytes()
    target.write_bytes(bytes(data))
    return target


def test_vtest_decodes_every_frame_as_fast_as_possible(vtest_path: Path) -> None:
    source = _source(vtest_path, realtime=False)
    start = time.perf_counter()
    played = _play(source, keep=(VTEST_FRAMES - 1,))
    elapsed = time.perf_counter() - start
    logger.info("vtest: %d frames in %.2f s = %.0f fps", len(played), elapsed, len(played) / elapsed)
    assert source.size == (768, 576) and source.fps == pytest.approx(10.0)
    assert played.images[VTEST_FRAMES - 1].shape == (576, 768, 3)
    assert played.indexes == list(range(VTEST_FRAMES))
    played.assert_increasing()
    assert played.pts[-1] == pytest.approx(79.4)
    assert source.stats.decode_errors == 0
    assert source.stats.frames_delivered == VTEST_FRAMES


def test_paced_playback_at_speed_four(vtest_path: Path) -> None:
    source = _source(vtest_path, speed=4.0)
    expected = 14 * 0.1 / 4.0
    start = time.monotonic()
    played = _play(source, limit=15)
    elapsed = time.monotonic() - start
    assert len(played) == 15
    assert expected * 0.9 <= elapsed <= expected + 0.5


def test_stop_ends_paced_playback_promptly(vtest_path: Path) -> None:
    source = _source(vtest_path, speed=1.0)
    timer = threading.Timer(0.45, source.stop)
    timer.start()
    start = time.monotonic()
    played = _play(source)
    elapsed = time.monotonic() - start
    timer.join()
    assert 3 <= len(played) <= 7
    assert elapsed < 0.45 + 0.2


def test_loop_runs_past_the_end(vtest_path: Path) -> None:
    source = _source(vtest_path, realtime=False, loop=True)
    played = _play(source, limit=VTEST_FRAMES + 30, keep=(5, VTEST_FRAMES + 5))
    played.assert_increasing()
    assert played.indexes[-1] == VTEST_FRAMES + 29
    assert played.pts[VTEST_FRAMES] == pytest.approx(79.5)
    assert np.array_equal(played.images[VTEST_FRAMES + 5], played.images[5])
    assert source.stats.reconnects == 1


def test_mp4_clip_decodes(shared_data: Path) -> None:
    source = _source(shared_data / "video" / "intel_car-detection.mp4", realtime=False)
    played = _play(source, keep=(100,))
    assert len(played) == 377
    assert source.size == (768, 432) and source.fps == pytest.approx(12.5)
    assert played.images[100].shape == (432, 768, 3)
    played.assert_increasing()


def test_random_bytes_mid_file_do_not_stop_decoding(vtest_path: Path, tmp_path: Path) -> None:
    corrupt = _corrupt_copy(vtest_path, tmp_path / "corrupt.avi", chunks=3, chunk_size=4096, seed=1)
    source = _source(corrupt, realtime=False)
    played = _play(source)
    assert len(played) >= 0.95 * VTEST_FRAMES
    assert played.pts[-1] > 79.0  # the end of the file was reached
    played.assert_increasing()


def test_heavy_corruption_is_counted_and_survived(
    vtest_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corrupt = _corrupt_copy(vtest_path, tmp_path / "heavy.avi", chunks=30, chunk_size=2048, seed=0)
    source = _source(corrupt, realtime=False)
    with caplog.at_level(logging.WARNING, logger="hwarang.edge.sources.file"):
        played = _play(source)
    stats = source.stats
    assert stats.decode_errors >= 1
    assert len(played) >= 0.9 * VTEST_FRAMES
    assert stats.frames_delivered == len(played)
    assert "cam-it" in caplog.text and "corrupt" in caplog.text
    played.assert_increasing()


def test_truncated_file_yields_what_is_there(vtest_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.avi"
    data = vtest_path.read_bytes()
    truncated.write_bytes(data[: int(len(data) * 0.6)])
    source = _source(truncated, realtime=False)
    played = _play(source)
    assert 0.5 * VTEST_FRAMES <= len(played) < 0.7 * VTEST_FRAMES
    assert source.stats.decode_errors >= 1
    assert source.stats.last_error is not None and str(truncated) in source.stats.last_error
    played.assert_increasing()
