"""Measurement from the hub's tables, after the workflow ran at controlled times; and the replay."""

import asyncio
from datetime import timedelta

import pytest

from hwarang.domain import (
    BoundingBox,
    Event,
    EventMessage,
    GeoPoint,
    IncidentState,
    ObjectClass,
    Role,
    RuleKind,
    TaskState,
    User,
    stable_event_id,
)
from hwarang.exercise.hubclock import ManualClock
from hwarang.exercise.injector import inject_events
from hwarang.exercise.measurement import measure
from hwarang.exercise.plan import ExercisePlan
from hwarang.exercise.replay import ReplayEntry, exercise_timeline, play
from hwarang.hub.service import HubService
from tests.unit.exercise.exercise_support import SCENARIO, START, scenario_plan

GHOST = """\
  - id: ghost
    at: 40m
    title: never detected
    threat: armed_intruder
    place: {sigungu: "28110"}
    inject: {type: event}
"""
ARMY = User(username="army-liaison", display_name="army", agency_code="army-17", roles=(Role.AGENCY_LIAISON,))


def event(camera: str, sigungu: str, at_s: float, *, exercise: bool = True) -> EventMessage:
    at = START + timedelta(seconds=at_s)
    return EventMessage(
        event=Event(
            id=stable_event_id(camera, "noise", 1, at),
            camera_id=camera,
            center_id="c",
            sido_code=sigungu[:2],
            sigungu_code=sigungu,
            occurred_at=at,
            object_class=ObjectClass.UNKNOWN,
            confidence=0.5,
            box=BoundingBox(x1=0, y1=0, x2=5, y2=5),
            track_id=1,
            rule=RuleKind.ZONE_INTRUSION,
            rule_name="noise",
            geo=GeoPoint(lat=37.5, lon=126.6),
            frame_index=0,
            exercise=exercise,
        )
    )


def at(clock: ManualClock, plan: ExercisePlan, inject: int, seconds: float) -> None:
    clock.set(plan.injects[inject].at + timedelta(seconds=seconds))


@pytest.fixture
def played(hub: HubService, clock: ManualClock) -> ExercisePlan:
    """The test scenario played: the boat handled (partly late), the drone ignored, the ghost missed."""
    plan = scenario_plan(SCENARIO + GHOST)
    boat, drone, _ghost = plan.injects
    hub.ingest.batch(
        [
            *inject_events(boat),
            *inject_events(drone),
            event("fa-1", "28110", 600),  # a false alarm in zone 2
            event("fa-2", "11110", 700),  # an exercise detection in zone 1, not an exercise zone
            event("real-1", "28110", 650, exercise=False),  # a real detection
        ]
    )
    incidents = {i.camera_id: i.id for i in hub.incidents.recent(include_exercise=True)}
    workflow, boat_incident = hub.workflow, incidents["ex-boat"]
    at(clock, plan, 0, 100)
    workflow.transition(boat_incident, IncidentState.ACKNOWLEDGED, "op")
    at(clock, plan, 0, 200)
    workflow.transition(boat_incident, IncidentState.RESPONDING, "op")
    army_task = workflow.tasks.create_task(
        boat_incident, "army-17", "go", clock.now() + timedelta(hours=1), "op"
    )
    at(clock, plan, 0, 260)
    workflow.tasks.update_task_state(army_task.id, TaskState.ACKNOWLEDGED, ARMY)
    at(clock, plan, 0, 700)
    workflow.tasks.create_task(boat_incident, "cg-28", "go", clock.now() + timedelta(hours=1), "op")
    at(clock, plan, 0, 4000)
    workflow.transition(boat_incident, IncidentState.RESOLVED, "op", "caught")
    clock.set(START + timedelta(seconds=900))
    workflow.transition(incidents["fa-1"], IncidentState.FALSE_ALARM, "op", "a cat")
    return plan


def test_each_step_is_measured_from_the_inject(hub: HubService, played: ExercisePlan) -> None:
    measurement = measure(hub.database, played, measured_at=played.end)
    boat = measurement.injects[0]
    assert boat.incident_id is not None and boat.duplicates == 0
    assert (boat.detected_s, boat.acknowledged_s, boat.resolved_s) == (20.0, 100.0, 4000.0)
    assert boat.closed_as == "resolved" and boat.audit_complete
    military, coast_guard = boat.agencies
    assert (military.requirement, military.agency_code, military.shared_s, military.tasked_s) == (
        "military", "army-17", 200.0, 200.0
    )  # fmt: skip
    assert military.task_acknowledged_s == 260.0 and military.late == []
    assert (coast_guard.requirement, coast_guard.tasked_s, coast_guard.late) == ("cg-28", 700.0, ["task"])
    assert boat.late == ["task", "resolve"]
    assert boat.links() == {
        "inject→detect": 20.0,
        "detect→acknowledge": 80.0,
        "acknowledge→share": 600.0,
        "acknowledge→task": 600.0,
        "acknowledge→resolve": 3900.0,
        "task→agency acknowledge": 60.0,
    }


def test_misses_duplicates_and_false_alarms(hub: HubService, played: ExercisePlan) -> None:
    measurement = measure(hub.database, played, measured_at=played.end)
    _boat, drone, ghost = measurement.injects
    assert drone.duplicates == 1 and drone.detected_s == 0.0 and drone.acknowledged_s is None
    assert drone.late == ["acknowledge", "share"] and not drone.missed
    assert ghost.missed and ghost.incident_id is None and ghost.late == ["detect", "acknowledge"]
    (alarm,) = measurement.false_alarms
    assert (alarm.camera_id, alarm.zone_id, alarm.state, alarm.closed_s) == ("fa-1", 2, "false_alarm", 300.0)
    assert measurement.agencies["army-17"].kind == "military"


def test_a_dismissed_inject_is_closed_as_a_false_alarm(hub: HubService, clock: ManualClock) -> None:
    plan = scenario_plan()
    hub.ingest.batch(inject_events(plan.injects[0]))
    (incident,) = hub.incidents.recent(include_exercise=True)
    at(clock, plan, 0, 50)
    hub.workflow.transition(incident.id, IncidentState.FALSE_ALARM, "op", "nothing there")
    boat = measure(hub.database, plan, measured_at=plan.end).injects[0]
    assert boat.dismissed and boat.acknowledged_s == 50.0 and boat.resolved_s is None


def test_replay_orders_every_step_and_plays_at_speed(hub: HubService, played: ExercisePlan) -> None:
    measurement = measure(hub.database, played, measured_at=played.end)
    timeline = exercise_timeline(hub.database, played, measurement)
    boat = [(e.offset_s, e.kind) for e in timeline if e.inject_id == "boat"]
    assert boat == [
        (300.0, "inject"),
        (320.0, "detected"),
        (400.0, "state"),
        (500.0, "state"),
        (500.0, "task.created"),
        (500.0, "share"),
        (560.0, "task.state"),
        (1000.0, "task.created"),
        (1000.0, "share"),
        (4300.0, "task.state"),  # closing cancels the open tasks
        (4300.0, "task.state"),
        (4300.0, "state"),
    ]
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert any(e.kind == "detected" and e.detail == {"false_alarm": True} for e in timeline)
    shown: list[ReplayEntry] = []
    first_five = timeline[:5]
    span = (first_five[-1].at - first_five[0].at).total_seconds()
    played_count = asyncio.run(play(first_five, span / 0.05, shown.append))  # the span in 50 ms
    assert played_count == 5 and shown == first_five
    with pytest.raises(ValueError, match="speed"):
        asyncio.run(play(timeline, 0, shown.append))
