"""The load generator on the real region catalog: real codes, points inside, order, bounds, CLI."""

import itertools
import re
import time
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from hwarang.bus import MemoryBus
from hwarang.cli import app
from hwarang.domain import EventMessage
from hwarang.edge.loadgen import (
    EventFactory,
    SimulationError,
    SimulationLimits,
    build_cameras,
    local_governments,
    simulate,
)
from hwarang.geo.regions import RegionCatalog, default_catalog

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog() -> RegionCatalog:
    return default_catalog()


def test_228_centers_are_real_local_governments_with_cameras_inside(catalog: RegionCatalog) -> None:
    assert len(local_governments(catalog)) >= 228
    cameras = build_cameras(catalog, centers=228, cameras_per_center=2, seed=3)
    assert len(cameras) == 456
    assert len({c.center_id for c in cameras}) == 228
    assert len({c.id for c in cameras}) == 456
    assert len({c.sido_code for c in cameras}) == 17, "centers are spread over every sido"
    for camera in cameras[::15]:
        found = catalog.lookup(camera.position.lat, camera.position.lon)
        assert found is not None and found.sido_code == camera.sido_code, camera
        assert catalog.get(camera.sigungu_code).parent_code == camera.sido_code


def test_bad_plans_are_refused(catalog: RegionCatalog) -> None:
    with pytest.raises(SimulationError, match=r"centers must be 1\.\."):
        build_cameras(catalog, centers=999, cameras_per_center=1)
    with pytest.raises(SimulationError, match="bounded"):
        SimulationLimits(rate=10.0)
    with pytest.raises(SimulationError, match="rate must be positive"):
        SimulationLimits(rate=0.0, count=1)


async def test_events_are_valid_ordered_per_camera_and_duplicates_are_caught(catalog: RegionCatalog) -> None:
    cameras = build_cameras(catalog, centers=5, cameras_per_center=3, seed=1)
    bus = MemoryBus()
    limits = SimulationLimits(rate=5000.0, count=1500, duplicate_ratio=0.1, keep_ids=True)
    summary = await simulate(bus, EventFactory(cameras, seed=1), limits, seed=1)
    assert (summary.generated, summary.published, summary.failed) == (1500, 1500, 0)
    assert summary.resent == summary.duplicates > 50, "the bus stored each re-sent copy once"
    assert bus.last_seq == 1500
    sub = await bus.subscribe("hwarang.events.>", durable="check")
    by_camera: dict[str, list[EventMessage]] = defaultdict(list)
    for _ in range(20):
        batch = await sub.fetch(batch=500, timeout_s=0.2)
        if not batch:
            break
        for delivery in batch:
            message = EventMessage.model_validate_json(delivery.data)
            event = message.event
            assert (
                delivery.subject == f"hwarang.events.{event.sido_code}.{event.sigungu_code}.{event.center_id}"
            )
            assert delivery.msg_id == str(event.id)
            by_camera[event.camera_id].append(message)
            await delivery.ack()
    assert sum(len(v) for v in by_camera.values()) == 1500
    assert len({m.event.id for v in by_camera.values() for m in v}) == 1500
    assert sorted(str(m.event.id) for v in by_camera.values() for m in v) == sorted(summary.event_ids)
    for messages in by_camera.values():
        events = [m.event for m in messages]
        assert all(a.occurred_at < b.occurred_at for a, b in itertools.pairwise(events))
        assert all(a.frame_index < b.frame_index for a, b in itertools.pairwise(events))
    classes = {m.event.object_class for v in by_camera.values() for m in v}
    rules = {m.event.rule for v in by_camera.values() for m in v}
    assert len(classes) >= 5 and len(rules) == 4


async def test_duration_bounds_the_run(catalog: RegionCatalog) -> None:
    factory = EventFactory(build_cameras(catalog, centers=2, cameras_per_center=1), seed=2)
    started = time.monotonic()
    summary = await simulate(MemoryBus(), factory, SimulationLimits(rate=200.0, duration_s=1.0))
    assert time.monotonic() - started < 3.0
    assert 150 <= summary.published <= 201, summary


def test_cli_simulate_dry_run_prints_a_summary() -> None:
    result = CliRunner().invoke(
        app,
        [
            *("simulate", "--bus", "memory", "--centers", "10", "--cameras-per-center", "2"),
            *("--count", "300", "--rate", "3000"),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    row = re.search(r"│\s*(\d+)\s*│\s*(\d+)\s*│", result.output)
    assert row is not None and row.group(1) == "300", result.output


def test_cli_simulate_refuses_an_unbounded_run() -> None:
    result = CliRunner().invoke(app, ["simulate", "--bus", "memory", "--rate", "10"])
    assert result.exit_code == 2
    assert "bounded" in result.output
