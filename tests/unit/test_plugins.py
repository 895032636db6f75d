"""One plugin mechanism: a plugin written in a test joins its family's union and is built from config."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import pytest
import supervision as sv
from pydantic import BaseModel, Field

from hwarang.bus.config import BUSES, MemoryBusConfig, build_bus
from hwarang.domain import RuleKind
from hwarang.edge.analytics.detectors import DETECTORS, Detector, DetectorPluginConfig
from hwarang.edge.analytics.rules import RULES, Rule, RuleConfigBase, RuleHit, build_rule
from hwarang.edge.analytics.rules.base import eligible
from hwarang.edge.errors import AnalyticsError, SourceError
from hwarang.edge.frame import Frame
from hwarang.edge.sources.registry import SOURCES
from hwarang.exercise.injector import InjectDelivery, InjectSinks
from hwarang.exercise.plan import PlannedInject
from hwarang.exercise.scenario import INJECT_ACTIONS, InjectActionConfig
from hwarang.plugins import Registry, plugin_type, union_members


class AnyTrackConfig(RuleConfigBase):
    """A rule written in this test: fires for every eligible track, every frame."""

    type: Literal["any_track"] = Field(description="Rule selector: any track.")

    def build(self) -> "AnyTrackRule":
        return AnyTrackRule(self)


class AnyTrackRule:
    def __init__(self, config: AnyTrackConfig) -> None:
        self._config = config

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def kind(self) -> RuleKind:
        return RuleKind.ZONE_INTRUSION

    def update(self, detections: sv.Detections, now_s: float) -> list[RuleHit]:
        mask, ids = eligible(detections, self._config.classes, self.name)
        return [
            RuleHit(self.name, self.kind, int(ids[i]), int(i), now_s, now_s) for i in np.flatnonzero(mask)
        ]

    def reset(self) -> None:
        return None


def test_a_rule_written_in_a_test_is_built_from_config() -> None:
    rules = RULES.extended(AnyTrackConfig)  # the one line: AnyTrackConfig in the RuleConfig union
    assert "any_track" in rules.types and "zone_intrusion" in rules.types
    config = rules.parse({"type": "any_track", "name": "everything", "classes": ["person"]})
    rule: Rule = config.build()
    detections = sv.Detections(
        xyxy=np.array([[0, 0, 10, 30], [20, 0, 30, 30]], dtype=np.float32),
        class_id=np.array([0, 1]),
        tracker_id=np.array([4, 5]),
    )
    hits = rule.update(detections, 1.5)
    assert [(h.rule_name, h.tracker_id) for h in hits] == [("everything", 4)]
    with pytest.raises(AnalyticsError, match=r"rule 'x': invalid 'any_track' rule config: colour: Extra"):
        rules.parse({"type": "any_track", "name": "x", "colour": "red"}, what="rule 'x'")
    with pytest.raises(AnalyticsError, match="unknown rule type 'any_track'"):
        build_rule(config)  # the shipped union does not list it: nothing is picked up by accident


def test_a_detector_written_in_a_test_is_built_from_config() -> None:
    class Nothing:
        def detect(self, frame: Frame) -> sv.Detections:
            return sv.Detections.empty()

    class NothingConfig(DetectorPluginConfig):
        type: Literal["nothing"] = "nothing"

        def build(self) -> Detector:
            return Nothing()

    detectors = DETECTORS.extended(NothingConfig)
    detector = detectors.parse({"type": "nothing"}).build()
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    assert len(detector.detect(Frame(image=image, index=0, pts_s=0.0, wall_time=datetime.now(UTC)))) == 0


def test_a_bus_and_an_inject_are_built_from_their_config_class() -> None:
    bus = asyncio.run(build_bus(BUSES.parse({"type": "memory", "max_msgs": 10})))
    assert type(bus).__name__ == "MemoryBus"
    assert set(BUSES.types) == {"memory", "nats"} and set(INJECT_ACTIONS.types) == {"event", "figure"}
    assert isinstance(BUSES.parse({"type": "memory"}), MemoryBusConfig)

    delivered: list[str] = []

    class Marker:
        async def deliver(self, inject: PlannedInject, sinks: InjectSinks) -> tuple[uuid.UUID, ...]:
            delivered.append(inject.id)
            return ()

    class MarkerInject(InjectActionConfig):
        type: Literal["marker"] = "marker"

        def build(self) -> InjectDelivery:
            return Marker()

    injects = INJECT_ACTIONS.extended(MarkerInject)
    assert isinstance(injects.parse({"type": "marker"}).build(), Marker)


def test_the_source_family_names_the_camera_and_the_known_types() -> None:
    with pytest.raises(
        SourceError, match=r"camera c1: unknown source type 'ftp'; known types: file, overlay"
    ):
        SOURCES.parse({"type": "ftp"}, what="camera c1")


def test_registry_reads_its_union_and_refuses_bad_plugins() -> None:
    class A(BaseModel):
        type: Literal["a"] = "a"

    class B(BaseModel):
        type: Literal["b"] = "b"

    class NoType(BaseModel):
        name: str = "x"

    class A2(BaseModel):
        type: Literal["a"] = "a"

    registry: Registry[BaseModel] = Registry("thing", A | B, error=LookupError)
    assert registry.types == ("a", "b") and union_members(A | B) == (A, B) and plugin_type(B) == "b"
    assert isinstance(registry.parse({"type": "b"}), B) and registry.check(A()) == A()
    with pytest.raises(LookupError, match=r"thing: unknown thing type 'c'; known types: a, b"):
        registry.parse({"type": "c"})
    with pytest.raises(LookupError, match="unknown thing type 'a'"):
        registry.check(A2())  # same type name, not the registered class
    with pytest.raises(TypeError, match="needs a field type"):
        registry.extended(NoType)
    with pytest.raises(TypeError, match="'a' is registered twice"):
        registry.extended(A2)
