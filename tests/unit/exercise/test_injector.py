"""The injector: injects at their times on a (fast) clock, flagged EXERCISE, stoppable."""

import asyncio
import json
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest

from hwarang.bus import MemoryBus
from hwarang.domain import EventMessage, ObjectClass
from hwarang.exercise.injector import (
    BusEventSink,
    Injector,
    InjectorError,
    LocalOverlaySink,
    ScaledClock,
    inject_events,
    inject_figure,
)
from tests.unit.exercise.exercise_support import FIGURE_SCENARIO, SCENARIO, scenario_plan


def test_event_injects_are_exercise_events_with_stable_ids() -> None:
    boat, drone = scenario_plan().injects
    first = inject_events(boat)
    assert [m.event.id for m in first] == [m.event.id for m in inject_events(boat)]
    (message,) = first
    event = message.event
    assert event.exercise is True and event.object_class is ObjectClass.BOAT
    assert event.occurred_at == boat.at + timedelta(seconds=20)
    assert (event.sido_code, event.sigungu_code, event.camera_id, event.rule_name) == (
        "28", "28720", "ex-boat", "exercise-boat"
    )  # fmt: skip
    assert event.geo == boat.position
    several = inject_events(drone)
    assert [m.event.track_id for m in several] == [1, 2] and len({m.event.id for m in several}) == 2
    assert several[0].event.object_class is ObjectClass.AIRCRAFT  # the drone threat's default


def test_figure_injects_start_at_their_stream_time() -> None:
    figure_inject = scenario_plan(FIGURE_SCENARIO).injects[1]
    figure = inject_figure(figure_inject, figure_inject.at - timedelta(seconds=12))
    assert figure.start_s == 12.0 and figure.path == [(0.0, 10.0, 20.0), (4.0, 50.0, 20.0)]
    assert figure.label == "sejong-drone"
    with pytest.raises(InjectorError, match="before the stream's start"):
        inject_figure(figure_inject, figure_inject.at + timedelta(seconds=1))
    with pytest.raises(InjectorError, match="not an event inject"):
        inject_events(figure_inject)


def test_bus_sink_publishes_like_an_edge() -> None:
    async def main() -> list[tuple[str, str | None, dict[str, object]]]:
        bus = MemoryBus()
        boat = scenario_plan().injects[0]
        await BusEventSink(bus)(inject_events(boat) * 2)  # a retry is de-duplicated by msg id
        subscription = await bus.subscribe("hwarang.events.>", durable="test")
        deliveries = await subscription.fetch(batch=10, timeout_s=0.1)
        await bus.close()
        return [(d.subject, d.msg_id, json.loads(d.data)) for d in deliveries]

    (delivered,) = asyncio.run(main())
    subject, msg_id, body = delivered
    assert subject == "hwarang.events.28.28720.exercise"
    event = body["event"]
    assert isinstance(event, dict) and event["exercise"] is True and msg_id == event["id"]


def test_injects_are_delivered_in_time_order_on_the_clock() -> None:
    plan = scenario_plan()
    delivered: list[tuple[float, list[str]]] = []

    async def sink(messages: Sequence[EventMessage]) -> None:
        delivered.append((time.monotonic() - began, [m.event.rule_name for m in messages]))

    began = time.monotonic()
    clock = ScaledClock(plan.start, speed=3600.0)  # an hour a second
    records = asyncio.run(Injector(plan, clock, events=sink).run())
    (boat_time, boat_rules), (drone_time, drone_rules) = delivered
    assert boat_rules == ["exercise-boat"] and drone_rules == ["exercise-sejong-drone"] * 2
    assert 300 / 3600 <= boat_time < 300 / 3600 + 0.3
    assert 1800 / 3600 <= drone_time < 1800 / 3600 + 0.3
    assert [r.inject_id for r in records] == ["boat", "sejong-drone"]
    assert records[0].scheduled_at == plan.injects[0].at and len(records[1].event_ids) == 2
    assert records[0].injected_at >= records[0].scheduled_at


def test_stop_ends_the_run_before_the_next_inject() -> None:
    plan = scenario_plan(SCENARIO.replace("at: 5m", "at: 0"))  # the second inject is 30 min later
    delivered: list[str] = []

    async def sink(messages: Sequence[EventMessage]) -> None:
        delivered.append(messages[0].event.rule_name)
        injector.stop()

    injector = Injector(plan, ScaledClock(plan.start), events=sink)

    async def main() -> int:
        return len(await asyncio.wait_for(injector.run(), timeout=5.0))

    assert asyncio.run(main()) == 1 and delivered == ["exercise-boat"]


def test_missing_sinks_and_overlays_are_reported() -> None:
    plan = scenario_plan(FIGURE_SCENARIO)
    clock = ScaledClock(plan.start + timedelta(hours=1))  # every inject is already due

    async def run(injector: Injector) -> None:
        await injector.run()

    with pytest.raises(InjectorError, match="no event sink"):
        asyncio.run(run(Injector(plan, clock)))

    async def events(_messages: Sequence[EventMessage]) -> None:
        return None

    with pytest.raises(InjectorError, match="no figure sink"):
        asyncio.run(run(Injector(plan, clock, events=events)))
    with pytest.raises(InjectorError, match="no overlay source is playing for camera cam-7"):
        asyncio.run(run(Injector(plan, clock, events=events, figures=LocalOverlaySink())))


def test_clock_rejects_bad_settings() -> None:
    plan = scenario_plan()
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(plan.start, speed=0)
    with pytest.raises(ValueError, match="time zone"):
        ScaledClock(plan.start.replace(tzinfo=None))
