"""Tagging the events an exercise figure caused, and the national simulation's plan and agencies."""

from datetime import UTC, datetime

import numpy as np

from hwarang.domain import AgencyKind, BoundingBox, Event, EventMessage, ObjectClass, RuleKind
from hwarang.edge.frame import Frame, TruthBox
from hwarang.exercise.figures import tag_exercise
from hwarang.exercise.scenario import ThreatType
from hwarang.exercise.simulate import (
    COASTAL_SIDO,
    SimulationConfig,
    agency_for,
    local_governments,
    national_plan,
    simulation_agencies,
)
from hwarang.geo.regions import default_catalog

T = datetime(2026, 8, 25, tzinfo=UTC)


def message(box: BoundingBox, track: int) -> EventMessage:
    event = Event(
        id=f"6f1c8e0a-4b7e-5d0e-9a3c-00000000000{track}",
        camera_id="cam",
        center_id="c",
        sido_code="28",
        sigungu_code="28110",
        occurred_at=T,
        object_class=ObjectClass.UNKNOWN,
        confidence=0.6,
        box=box,
        track_id=track,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="quay",
        frame_index=3,
    )
    return EventMessage(event=event)


def test_only_events_on_a_drawn_figure_become_exercise_events() -> None:
    truth = (TruthBox(1, ObjectClass.PERSON, (100.0, 100.0, 140.0, 210.0)),)
    frame = Frame(np.zeros((240, 320, 3), np.uint8), 3, 0.3, T, truth)
    on_figure = message(BoundingBox(x1=98, y1=110, x2=138, y2=205), 1)
    real_person = message(BoundingBox(x1=200, y1=100, x2=240, y2=210), 2)
    grazing = message(BoundingBox(x1=130, y1=100, x2=230, y2=210), 3)  # 10% on the figure
    tagged = tag_exercise(frame, [on_figure, real_person, grazing])
    assert [m.event.exercise for m in tagged] == [True, False, False]
    assert tagged[0].event.id == on_figure.event.id
    untouched = Frame(frame.image, 3, 0.3, T)
    assert [m.event.exercise for m in tag_exercise(untouched, [on_figure])] == [False]


def test_the_national_plan_covers_every_local_government_of_every_zone() -> None:
    catalog = default_catalog()
    config = SimulationConfig()
    plan = national_plan(config, catalog, np.random.default_rng(1))
    governments = local_governments(catalog)
    assert len(governments) == 229 and len(plan.injects) == 229
    assert {i.local_government_code for i in plan.injects} == set(governments)
    assert {i.zone_id for i in plan.injects} == set(range(1, 12)) and plan.zones == tuple(range(1, 12))
    assert all(plan.start < i.at < plan.end for i in plan.injects)
    assert all(
        i.sido_code in COASTAL_SIDO for i in plan.injects if i.threat is ThreatType.COASTAL_INFILTRATION
    )
    assert all(i.sigungu_code is not None and len(i.sigungu_code) == 5 for i in plan.injects)
    again = national_plan(config, catalog, np.random.default_rng(1))
    assert [(i.id, i.at, i.threat) for i in again.injects] == [(i.id, i.at, i.threat) for i in plan.injects]
    twice = national_plan(
        config.model_copy(update={"injects_per_local_government": 2}), catalog, np.random.default_rng(1)
    )
    assert len(twice.injects) == 458


def test_every_required_agency_exists_in_the_simulated_nation() -> None:
    catalog = default_catalog()
    codes = {a.code: a.kind for a in simulation_agencies(catalog)}
    plan = national_plan(SimulationConfig(), catalog, np.random.default_rng(2))
    for inject in plan.injects:
        for requirement in inject.expected.agencies:
            assert requirement.kind is not None
            code = agency_for(requirement.kind, inject)
            assert codes.get(code) is requirement.kind, (inject.id, code)
    assert sum(kind is AgencyKind.LOCAL_GOVERNMENT for kind in codes.values()) == 229
