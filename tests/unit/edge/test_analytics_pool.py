"""The shared analytics pool: per-camera order, never blocking capture, fair turns, clean ends."""

import threading
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from hwarang.edge.analytics_pool import AnalyticsPool
from hwarang.edge.frame import Frame


def _frame(index: int) -> Frame:
    return Frame(np.zeros((4, 4, 3), np.uint8), index, index / 10.0, datetime.now(UTC))


def test_each_camera_sees_its_frames_in_order_across_workers() -> None:
    pool = AnalyticsPool(workers=3)
    pool.start()
    seen: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    active: dict[str, int] = {"a": 0, "b": 0, "c": 0}
    overlap: list[str] = []
    lock = threading.Lock()

    def handler_for(name: str):  # type: ignore[no-untyped-def]
        def handle(frame: Frame) -> None:
            with lock:
                active[name] += 1
                if active[name] > 1:
                    overlap.append(name)
            time.sleep(0.001)
            seen[name].append(frame.index)
            with lock:
                active[name] -= 1

        return handle

    lanes = {name: pool.lane(name, handler_for(name), lambda: None, maxsize=1000) for name in seen}
    for i in range(200):
        for lane in lanes.values():
            assert lane.offer(_frame(i))
    for lane in lanes.values():
        lane.close()
        assert lane.wait_ended(10)
    pool.stop()
    assert overlap == [], "one camera was analysed by two workers at once"
    assert all(indices == list(range(200)) for indices in seen.values())


def test_full_lane_refuses_without_blocking() -> None:
    pool = AnalyticsPool(workers=1)
    release = threading.Event()

    def block(_frame: Frame) -> None:
        release.wait(5)

    lane = pool.lane("cam", block, lambda: None, maxsize=2)
    pool.start()
    assert lane.offer(_frame(0))
    time.sleep(0.05)  # the worker takes frame 0 and blocks in the handler
    start = time.perf_counter()
    results = [lane.offer(_frame(i)) for i in range(1, 6)]
    elapsed = time.perf_counter() - start
    release.set()
    lane.close()
    assert lane.wait_ended(5)
    pool.stop()
    assert results == [True, True, False, False, False]
    assert elapsed < 0.05


def test_a_busy_camera_does_not_starve_another() -> None:
    pool = AnalyticsPool(workers=1)
    order: list[str] = []
    busy = pool.lane("busy", lambda f: order.append("busy"), lambda: None, maxsize=100)
    quiet = pool.lane("quiet", lambda f: order.append("quiet"), lambda: None, maxsize=100)
    for i in range(50):
        busy.offer(_frame(i))
    quiet.offer(_frame(0))
    pool.start()
    busy.close()
    quiet.close()
    assert busy.wait_ended(5) and quiet.wait_ended(5)
    pool.stop()
    assert order.index("quiet") <= 1, f"the quiet camera waited behind the busy one: {order[:5]}"


def test_handler_failure_is_contained_and_end_runs_once() -> None:
    pool = AnalyticsPool(workers=2)
    ends: list[str] = []
    handled: list[int] = []

    def handle(frame: Frame) -> None:
        if frame.index == 1:
            raise RuntimeError("bad frame")
        handled.append(frame.index)

    lane = pool.lane("cam", handle, lambda: ends.append("end"), maxsize=10)
    pool.start()
    for i in range(3):
        lane.offer(_frame(i))
    lane.close()
    lane.close()
    assert lane.wait_ended(5)
    pool.stop()
    assert handled == [0, 2]
    assert ends == ["end"]
    assert not lane.offer(_frame(9)), "a closed lane takes no frames"


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        AnalyticsPool(workers=0)
    with pytest.raises(ValueError, match="lane size must be >= 1"):
        AnalyticsPool(workers=1).lane("cam", lambda f: None, lambda: None, maxsize=0)
