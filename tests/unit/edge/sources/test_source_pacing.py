"""Pacing against a monotonic clock, and the source counters."""

import threading
import time
from datetime import UTC

import pytest

from hwarang.edge.sources.base import Pacer, StatsRecorder


def test_pacer_releases_frames_at_their_time() -> None:
    pacer = Pacer(threading.Event(), speed=2.0)
    start = time.monotonic()
    for i in range(5):
        assert pacer.wait(10.0 + i * 0.1)
    elapsed = time.monotonic() - start
    assert 0.18 <= elapsed <= 0.5
    assert (pacer.wall_time(10.4) - pacer.wall_time(10.0)).total_seconds() == pytest.approx(0.2)
    assert pacer.wall_time(10.0).tzinfo == UTC


def test_pacer_does_not_accumulate_drift_after_a_late_frame() -> None:
    pacer = Pacer(threading.Event())
    start = time.monotonic()
    pacer.wait(0.0)
    time.sleep(0.35)  # a slow consumer
    late = time.monotonic()
    for pts in (0.1, 0.2, 0.3):
        pacer.wait(pts)
    assert time.monotonic() - late < 0.03
    pacer.wait(0.5)
    assert 0.48 <= time.monotonic() - start <= 0.65


def test_pacer_wait_returns_false_once_stopped() -> None:
    stop = threading.Event()
    pacer = Pacer(stop)
    assert pacer.wait(0.0)
    threading.Timer(0.1, stop.set).start()
    start = time.monotonic()
    assert not pacer.wait(30.0)
    assert time.monotonic() - start < 0.5


def test_unpaced_pacer_never_sleeps() -> None:
    pacer = Pacer(threading.Event(), realtime=False)
    start = time.monotonic()
    for i in range(100):
        assert pacer.wait(i * 1.0)
    assert time.monotonic() - start < 0.05


def test_pacer_rejects_non_positive_speed() -> None:
    with pytest.raises(ValueError, match="speed"):
        Pacer(threading.Event(), speed=0.0)


def test_stats_recorder_counts_and_measures_rate() -> None:
    stats = StatsRecorder()
    for _ in range(5):
        stats.decoded()
        time.sleep(0.01)
    stats.delivered()
    stats.error("bad packet")
    stats.error("worse packet")
    stats.reconnected()
    snap = stats.snapshot()
    assert (snap.frames_decoded, snap.frames_delivered, snap.decode_errors, snap.reconnects) == (5, 1, 2, 1)
    assert snap.last_error == "worse packet"
    assert 20.0 < snap.fps_in < 110.0
