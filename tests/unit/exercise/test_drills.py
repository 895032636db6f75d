"""Operator drills: levelled scenarios, grading from the trainee's own steps, certificates."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hwarang.domain import IncidentState, Role, TaskState, User
from hwarang.exercise.drills import (
    DRILL_LEVELS,
    CertificationStore,
    DrillError,
    DrillResult,
    drill_scenario,
    grade_drill,
)
from hwarang.exercise.hubclock import ManualClock
from hwarang.exercise.injector import inject_events
from hwarang.exercise.plan import ExercisePlan, plan_exercise
from hwarang.exercise.scenario import LoadedScenario
from hwarang.geo.regions import default_catalog
from hwarang.hub.service import HubService
from tests.unit.exercise.exercise_support import START

POLICE = User(
    username="police-liaison", display_name="p", agency_code="police-28", roles=(Role.AGENCY_LIAISON,)
)


def drill_plan(level: int) -> ExercisePlan:
    scenario = drill_scenario(level, "28110", "kim.op", START, default_catalog())
    return plan_exercise(LoadedScenario(scenario, "drill", {}, {}))


def respond(hub: HubService, clock: ManualClock, plan: ExercisePlan, helper: str | None = None) -> None:
    """The trainee handles every inject in time; ``helper`` (when given) does the military tasking."""
    hub.ingest.batch([m for inject in plan.injects for m in inject_events(inject)])
    incidents = {i.camera_id: i.id for i in hub.incidents.recent(include_exercise=True)}
    workflow = hub.workflow
    for inject in plan.injects:
        incident = incidents[inject.camera_id]

        def at(seconds: float, inject_at: datetime = inject.at) -> None:
            clock.set(inject_at + timedelta(seconds=seconds))

        at(60)
        workflow.transition(incident, IncidentState.ACKNOWLEDGED, "kim.op")
        at(100)
        workflow.transition(incident, IncidentState.RESPONDING, "kim.op")
        task = workflow.tasks.create_task(
            incident, "police-28", "go", clock.now() + timedelta(hours=1), "kim.op"
        )
        at(150)
        workflow.tasks.create_task(
            incident, "army-17", "go", clock.now() + timedelta(hours=1), helper or "kim.op"
        )
        workflow.tasks.update_task_state(task.id, TaskState.ACKNOWLEDGED, POLICE)
        at(1200)
        workflow.transition(incident, IncidentState.RESOLVED, "kim.op", "done")


def test_drill_scenarios_get_harder_by_level() -> None:
    plans = {level: drill_plan(level) for level in DRILL_LEVELS}
    assert [len(plans[level].injects) for level in (1, 2, 3)] == [1, 2, 3]
    assert all(
        i.local_government_code == "28110" and i.zone_id == 2 for p in plans.values() for i in p.injects
    )
    acks = [plans[level].injects[0].expected.acknowledge_within_s for level in (1, 2, 3)]
    assert acks == sorted(acks, reverse=True)
    assert plans[2].injects[0].camera_id == "drill-kim-op-1"
    with pytest.raises(DrillError, match="unknown drill level 4"):
        drill_scenario(4, "28110", "kim", START, default_catalog())


def test_a_drill_done_alone_and_in_time_passes(hub: HubService, clock: ManualClock) -> None:
    plan = drill_plan(2)
    respond(hub, clock, plan)
    result = grade_drill(
        hub.database, plan, "kim.op", 2, default_catalog(), graded_at=START + timedelta(hours=2)
    )
    assert result.passed and result.score == 100.0
    assert (result.own_actions, result.others_actions) == (2 * 7, 0)  # 3 states, 2 tasks, 2 shares per inject


def test_steps_taken_by_someone_else_do_not_count(hub: HubService, clock: ManualClock) -> None:
    plan = drill_plan(2)
    respond(hub, clock, plan, helper="lee.commander")
    result = grade_drill(
        hub.database, plan, "kim.op", 2, default_catalog(), graded_at=START + timedelta(hours=2)
    )
    assert result.others_actions == 2 * 2  # the military task and its share, per inject
    # Military sharing and tasking are lost: per inject 8 of 12 weight points.
    assert result.score < DRILL_LEVELS[2].pass_score and not result.passed
    assert set(result.weakest) == {"share", "task"}


def test_certificates_open_levels_one_after_another(tmp_path: Path) -> None:
    store = CertificationStore(tmp_path / "certs" / "drills.jsonl")
    assert store.certified_level("kim.op") == 0 and store.records() == []
    store.check_open("kim.op", 1)
    with pytest.raises(DrillError, match=r"kim\.op holds level 0; pass level 1 before level 2"):
        store.check_open("kim.op", 2)

    def record(level: int, passed: bool) -> DrillResult:
        score = 90.0 if passed else 10.0
        return DrillResult(
            username="kim.op",
            level=level,
            drill="d",
            graded_at=START,
            score=score,
            passed=passed,
            own_actions=3,
            others_actions=0,
        )

    store.add(record(1, False))
    store.add(record(1, True))
    store.add(record(3, True))  # passed out of order: does not count until level 2 is passed
    assert store.certified_level("kim.op") == 1
    store.check_open("kim.op", 2)
    store.add(record(2, True))
    assert store.certified_level("kim.op") == 3 and len(store.records("kim.op")) == 4
    store.path.write_text(store.path.read_text() + "{not json\n")
    with pytest.raises(DrillError, match=r"drills\.jsonl:5: not a drill record"):
        store.records()
