"""Exercise scenario files: what is injected where and when, and the response expected.

A scenario is YAML (see ``scenarios/*.yaml`` and docs/exercise.md). :func:`load_scenario` validates
it against :class:`Scenario`; every problem names the file, the line and column, and the field::

    coast.yaml:14:7: injects.0.expected.acknowledge_within_s: Input should be greater than 0 (got -5)

Where places, zones and cameras are checked against the region catalog, see
:func:`hwarang.exercise.plan.plan_exercise`.
"""

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from hwarang.domain import AgencyKind, GeoPoint, ObjectClass, RuleKind
from hwarang.exercise.yamlmarks import Mark, MarkedYamlError, Problem, load_marked, locate
from hwarang.plugins import Registry

if TYPE_CHECKING:
    from hwarang.exercise.injector import InjectDelivery

SCHEMA_VERSION = 1
_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_DURATION = re.compile(r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$")
_CLOCK = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)$")


class ScenarioError(Exception):
    """A scenario file is unreadable or invalid; ``problems`` name file, line, column and field."""

    def __init__(self, source: str, problems: Sequence[Problem], what: str = "exercise scenario") -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) in {what}:\n{lines}")


def parse_duration(value: object) -> float:
    """Seconds from a number or a text like ``90``, ``90s``, ``5m``, ``1h30m``, ``01:30`` or ``1:02:03``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration, got a boolean")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected seconds or a duration text, got {type(value).__name__}")
    text = value.strip().lower().replace(" ", "")
    try:
        return float(text)
    except ValueError:
        pass
    for pattern in (_DURATION, _CLOCK):
        match = pattern.match(text)
        if match and any(match.groupdict().values()):
            parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
            return parts["h"] * 3600.0 + parts["m"] * 60.0 + parts["s"]
    raise ValueError(f"{value!r} is not a duration; write seconds (90) or '90s', '5m', '1h30m', '01:30:00'")


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0.0)]
"""A duration in seconds, written as a number or as '90s', '5m', '1h30m', '01:30:00'."""
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0.0)]


class ThreatType(StrEnum):
    """What an inject represents (the threat types of the Hwarang exercise)."""

    COASTAL_INFILTRATION = "coastal_infiltration"
    ARMED_INTRUDER = "armed_intruder"
    VEHICLE_BORNE = "vehicle_borne"
    DRONE = "drone"
    CROWDED_PLACE_TERROR = "crowded_place_terror"
    DISASTER = "disaster"


THREAT_OBJECT_CLASS: dict[ThreatType, ObjectClass] = {
    ThreatType.COASTAL_INFILTRATION: ObjectClass.PERSON,
    ThreatType.ARMED_INTRUDER: ObjectClass.PERSON,
    ThreatType.VEHICLE_BORNE: ObjectClass.VEHICLE,
    ThreatType.DRONE: ObjectClass.AIRCRAFT,
    ThreatType.CROWDED_PLACE_TERROR: ObjectClass.PERSON,
    ThreatType.DISASTER: ObjectClass.UNKNOWN,
}
"""What an event inject reports by default for each threat."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Place(_Strict):
    """Where an inject happens: any of zone, sido, local government, camera or coordinates."""

    zone: int | None = Field(default=None, ge=1, description="Exercise zone number (1..11).")
    sido: str | None = Field(default=None, pattern=r"^\d{2}$", description='Sido code, quoted: "28".')
    sigungu: str | None = Field(
        default=None, pattern=r"^\d{5}$", description='Local government (sigungu) code, quoted: "28110".'
    )
    camera: str | None = Field(default=None, pattern=_SLUG, description="Camera id at an edge.")
    position: GeoPoint | None = Field(default=None, description="Coordinates {lat, lon} (WGS84).")
    name: str | None = Field(default=None, description="A name for people, e.g. 인천항 제1부두.")

    @model_validator(mode="after")
    def _something_given(self) -> "Place":
        if all(v is None for v in (self.zone, self.sido, self.sigungu, self.camera, self.position)):
            raise ValueError("give at least one of zone, sido, sigungu, camera or position")
        return self


class InjectActionConfig(_Strict, ABC):
    """Base of every inject action: a ``type`` literal and ``build``, which gives its delivery."""

    @abstractmethod
    def build(self) -> "InjectDelivery":
        """How an inject of this kind is delivered (to the sinks the injector was given)."""


class FigureInject(InjectActionConfig):
    """A synthetic figure rendered into a camera's frames: the real analytics must find it."""

    type: Literal["figure"] = Field(description="Inject kind: a figure drawn at an edge camera.")
    object_class: Literal[ObjectClass.PERSON, ObjectClass.VEHICLE] = Field(
        default=ObjectClass.PERSON, description="Sprite: person or vehicle."
    )
    path: list[tuple[float, float, float]] = Field(
        min_length=1, description="Waypoints [t_s, x, y]: seconds after the inject, bottom-centre pixel."
    )
    size: tuple[float, float] = Field(default=(40.0, 110.0), description="Width and height in pixels.")
    enters_zone_s: float | None = Field(
        default=None,
        ge=0.0,
        description="Seconds after the inject at which the figure enters the camera's rule zone "
        "(when known, the detection target is measured from there).",
    )

    def build(self) -> "InjectDelivery":
        """Draws the figure at the inject's camera (a figure sink)."""
        from hwarang.exercise.injector import FigureDelivery

        return FigureDelivery()


class EventInject(InjectActionConfig):
    """Events on the bus, as if an edge had detected the threat (``count`` objects at once)."""

    type: Literal["event"] = Field(description="Inject kind: event messages on the bus.")
    object_class: ObjectClass | None = Field(default=None, description="Default: from the threat type.")
    rule: RuleKind = Field(default=RuleKind.ZONE_INTRUSION, description="Rule the event reports.")
    confidence: float = Field(default=0.9, ge=0.0, le=1.0, description="Detector confidence reported.")
    count: int = Field(default=1, ge=1, le=100, description="Objects (one event each).")
    detect_delay_s: Seconds = Field(
        default=0.0, description="Edge latency to simulate: events occur this long after the inject."
    )

    def build(self) -> "InjectDelivery":
        """Publishes the inject's events (an event sink)."""
        from hwarang.exercise.injector import EventDelivery

        return EventDelivery()


InjectAction = Annotated[FigureInject | EventInject, Field(discriminator="type")]
"""Any inject action; the union is the list of inject plugins (``hwarang.plugins``)."""

INJECT_ACTIONS: Registry[InjectActionConfig] = Registry("inject", InjectAction, error=ValueError)
"""The inject actions, read from ``InjectAction``."""


class AgencyRequirement(_Strict):
    """An agency (by kind or code) that must be informed (shared with) and/or tasked in time."""

    kind: AgencyKind | None = Field(default=None, description="Any agency of this kind, e.g. police.")
    code: str | None = Field(default=None, pattern=_SLUG, description="One registered agency code.")
    share_within_s: PositiveSeconds | None = Field(
        default=None, description="Seconds after the inject by which it must be shared with."
    )
    task_within_s: PositiveSeconds | None = Field(
        default=None, description="Seconds after the inject by which it must be tasked."
    )

    @model_validator(mode="after")
    def _one_agency_and_a_deadline(self) -> "AgencyRequirement":
        if (self.kind is None) == (self.code is None):
            raise ValueError("give exactly one of kind or code")
        if self.share_within_s is None and self.task_within_s is None:
            raise ValueError("give share_within_s, task_within_s or both")
        return self

    @property
    def label(self) -> str:
        """The kind or code, as shown in reports."""
        return self.code if self.code is not None else str(self.kind)


class Expected(_Strict):
    """The response an inject expects, as deadlines in seconds after the inject."""

    detect_within_s: PositiveSeconds = Field(default=60.0, description="Edge detection deadline.")
    acknowledge_within_s: PositiveSeconds = Field(default=180.0, description="Operator acknowledgement.")
    agencies: list[AgencyRequirement] = Field(
        default_factory=list, description="Agencies to inform and task, with their deadlines."
    )
    resolve_within_s: PositiveSeconds | None = Field(
        default=None, description="Deadline to resolve the incident (None: not measured)."
    )


class Inject(_Strict):
    """One scripted event of the exercise."""

    id: str = Field(pattern=_SLUG, description="Unique id within the scenario, e.g. 'coast-1'.")
    at: Seconds = Field(description="Offset from the exercise start: 90, '90s', '5m', '01:30:00'.")
    title: str = Field(min_length=1, description="What happens, for people.")
    threat: ThreatType = Field(description="Threat type.")
    place: Place = Field(description="Where it happens.")
    inject: InjectAction = Field(description="What is injected: a figure at a camera, or events.")
    expected: Expected = Field(default_factory=Expected, description="The response expected.")


class Scenario(_Strict):
    """An exercise: its zones, start time and injects."""

    schema_version: Literal[1] = Field(default=1, description="Scenario file format version.")
    name: str = Field(min_length=1, description="Exercise name.")
    description: str = Field(default="", description="Free text.")
    zones: list[int] = Field(min_length=1, description="Exercise zones taking part (1..11).")
    start: AwareDatetime | None = Field(
        default=None, description="When the exercise starts (with a UTC offset); default: when it is run."
    )
    duration: Seconds | None = Field(
        default=None, description="Exercise length for false-alarm counting; default: last inject + 1h."
    )
    injects: list[Inject] = Field(min_length=1, description="The injects, in any order.")

    @property
    def length_s(self) -> float:
        """The exercise window in seconds."""
        last = max(inject.at for inject in self.injects)
        return self.duration if self.duration is not None else last + 3600.0


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A validated scenario, where it came from, and the position of each of its values."""

    scenario: Scenario
    source: str
    marks: dict[tuple[str | int, ...], Mark]
    raw: Any

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        """A problem at ``path`` of the file (for checks beyond the schema)."""
        mark, field = locate(path, self.marks, self.raw)
        return Problem(self.source, mark.line, mark.column, field, message)


def _input(error: Any) -> str:
    got = error.get("input")
    if isinstance(got, dict | list) or got is None or error["type"] == "missing":
        return ""
    return f" (got {got!r})"


def parse_scenario(text: str, source: str) -> LoadedScenario:
    """Validate scenario YAML text; ScenarioError lists every problem with its line and field."""
    try:
        raw, marks = load_marked(text, source)
    except MarkedYamlError as exc:
        raise ScenarioError(source, exc.problems) from None
    if not isinstance(raw, dict):
        kind = "an empty file" if raw is None else type(raw).__name__
        raise ScenarioError(source, [Problem(source, 1, 1, "(top level)", f"expected a mapping, got {kind}")])
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            mark, field = locate(error["loc"], marks, raw)
            message = error["msg"].removeprefix("Value error, ") + _input(error)
            problems.append(Problem(source, mark.line, mark.column, field, message))
        raise ScenarioError(source, sorted(problems, key=lambda p: (p.line, p.column))) from None
    return LoadedScenario(scenario, source, marks, raw)


def load_scenario(path: Path) -> LoadedScenario:
    """Read and validate a scenario file (see :func:`parse_scenario`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), [Problem(str(path), 1, 1, "(file)", f"cannot read: {exc}")]) from None
    return parse_scenario(text, str(path))
