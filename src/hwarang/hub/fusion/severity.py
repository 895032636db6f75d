"""Incident severity and default sharing from site rules.

A :class:`SeverityRule` matches an event on its rule kind, object class, named areas (polygons of
the site config, each with a kind such as ``key_infrastructure`` or ``coast``) and local time of day
(``night`` or ``day`` in the site's time zone, Asia/Seoul by default). Every condition a rule leaves
empty matches anything; the conditions it sets must all hold.

Which rule decides (``policy``):

- ``max`` (default): every matching rule counts; the highest severity wins (on a tie, the earlier
  rule is named first) and ``share_with`` is the union of the matching rules' agencies.
- ``first``: the first matching rule, in file order, alone decides severity and sharing.

When no rule matches, :func:`severity_for` (the built-in default) applies and nothing is shared.
A rule may lower severity below that default (e.g. animals are ``low``): a matching rule wins over
the default. The area kind ``ordinary`` matches an event that lies in no named area.

After the rules, in this order: an event below ``low_confidence`` is one level lower; an event of
a motion-only detector (its class is a shape guess) is capped at ``motion_only_cap``; an exercise
event is capped at ``exercise_cap`` when set. Every decision carries its reasons as codes
(:class:`~hwarang.domain.SeverityReason`), which the page renders in the reader's language.
Fusion never lowers an incident: its severity is the highest of its events'.
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import time, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import shapely
from pydantic import BaseModel, ConfigDict, Field, model_validator
from shapely.geometry import Polygon

from hwarang.domain import (
    Event,
    GeoPoint,
    ObjectClass,
    RuleKind,
    Severity,
    SeverityReason,
    SeverityReasonCode,
)
from hwarang.geo.polygons import LonLatPolygon

logger = logging.getLogger(__name__)

__all__ = [
    "ORDINARY",
    "SEVERITY_ORDER",
    "NamedArea",
    "SeverityConfig",
    "SeverityDecision",
    "SeverityHook",
    "SeverityRule",
    "SeverityRules",
    "default_decision",
    "lower_severity",
    "max_severity",
    "severity_for",
]

SEVERITY_ORDER: dict[Severity, int] = {
    Severity.LOW: 0,
    Severity.MEDIUM: 1,
    Severity.HIGH: 2,
    Severity.CRITICAL: 3,
}
_HIGH_CLASSES = frozenset({ObjectClass.PERSON, ObjectClass.VEHICLE})
_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_KOREA_STANDARD_TIME = timezone(timedelta(hours=9), "KST")
_BY_RANK = {rank: severity for severity, rank in SEVERITY_ORDER.items()}
_CACHE_SIZE = 4096  # distinct decisions (and reasons) remembered; cleared when full
_REASONS: dict[tuple[SeverityReasonCode, tuple[tuple[str, str], ...]], SeverityReason] = {}
ORDINARY = "ordinary"
"""The area kind of every place outside the named areas (usable in ``area_kinds``)."""


def severity_for(rule: RuleKind, object_class: ObjectClass) -> Severity:
    """Built-in default: intrusion or crossing by a person or vehicle is high; unknown objects low."""
    if object_class is ObjectClass.UNKNOWN:
        return Severity.LOW
    if rule in (RuleKind.ZONE_INTRUSION, RuleKind.LINE_CROSSING) and object_class in _HIGH_CLASSES:
        return Severity.HIGH
    return Severity.MEDIUM


def max_severity(a: Severity, b: Severity) -> Severity:
    """The more urgent of two severities."""
    return a if SEVERITY_ORDER[a] >= SEVERITY_ORDER[b] else b


def lower_severity(severity: Severity) -> Severity:
    """One level less urgent (``low`` stays ``low``)."""
    return _BY_RANK[max(0, SEVERITY_ORDER[severity] - 1)]


def _reason(code: SeverityReasonCode, **params: str) -> SeverityReason:
    # reasons are immutable and few distinct ones occur: build each once (bounded)
    key = (code, tuple(params.items()))
    found = _REASONS.get(key)
    if found is None:
        found = SeverityReason(code=code, params=params)
        if len(_REASONS) >= _CACHE_SIZE:
            _REASONS.clear()
        _REASONS[key] = found
    return found


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NamedArea(_Strict):
    """A named polygon of the site with a kind that severity rules refer to."""

    name: str = Field(pattern=_SLUG, description="Unique area name, e.g. 'goseong-coast'.")
    kind: str = Field(
        pattern=_SLUG, description="What the area is, e.g. 'key_infrastructure', 'coast', 'border'."
    )
    polygon: LonLatPolygon = Field(
        min_length=3, description="Outline as (lon, lat) WGS84 vertices; closing it is optional."
    )


class SeverityRule(_Strict):
    """Conditions on an event and the severity (and sharing) they lead to."""

    name: str = Field(min_length=1, max_length=64, description="Shown in the incident history.")
    rules: list[RuleKind] = Field(default_factory=list, description="Rule kinds matched; empty: any.")
    classes: list[ObjectClass] = Field(default_factory=list, description="Object classes; empty: any.")
    areas: list[str] = Field(default_factory=list, description="Area names the event must lie in (any).")
    area_kinds: list[str] = Field(
        default_factory=list,
        description="Area kinds the event must lie in (any area of any kind); 'ordinary': in no named area.",
    )
    time_of_day: Literal["any", "day", "night"] = Field(
        default="any", description="Local time of the event: 'night' is the configured night window."
    )
    severity: Severity = Field(description="Severity of a matching event.")
    share_with: list[str] = Field(
        default_factory=list,
        description="Agency kinds (e.g. 'military', 'coast_guard') or agency codes to share with.",
    )


def _demo_areas() -> list[NamedArea]:
    return [
        NamedArea(
            name="goseong-coast",
            kind="coast",
            polygon=[(128.40, 38.62), (128.48, 38.62), (128.60, 38.25), (128.52, 38.22), (128.44, 38.40)],
        ),
        NamedArea(
            name="incheon-inner-harbour",
            kind="coast",
            polygon=[(126.595, 37.455), (126.635, 37.455), (126.635, 37.490), (126.595, 37.490)],
        ),
        NamedArea(  # the PETS camera's right half of view: the harbour road into the port's gate
            name="incheon-harbour-gate",
            kind="key_infrastructure",
            polygon=[
                (126.6165, 37.4745),
                (126.61579, 37.47392),
                (126.61562, 37.4741),
                (126.61551, 37.47429),
                (126.61548, 37.4745),
            ],
        ),
        NamedArea(
            name="incheon-inner-harbour-docks",
            kind="key_infrastructure",
            polygon=[(126.600, 37.462), (126.612, 37.462), (126.612, 37.472), (126.600, 37.472)],
        ),
    ]


def _demo_rules() -> list[SeverityRule]:
    intrusion = [RuleKind.ZONE_INTRUSION, RuleKind.LINE_CROSSING]
    return [
        SeverityRule(
            name="key-infrastructure-intrusion",
            rules=intrusion,
            area_kinds=["key_infrastructure"],
            severity=Severity.CRITICAL,
            share_with=["military", "police", "infrastructure"],
        ),
        SeverityRule(
            name="coast-night-loitering",
            rules=[RuleKind.LOITERING],
            classes=[ObjectClass.PERSON],
            area_kinds=["coast"],
            time_of_day="night",
            severity=Severity.HIGH,
            share_with=["military", "coast_guard"],
        ),
        SeverityRule(
            name="coast-intrusion",
            rules=intrusion,
            classes=[ObjectClass.PERSON, ObjectClass.BOAT, ObjectClass.UNKNOWN],
            area_kinds=["coast"],
            severity=Severity.HIGH,
            share_with=["coast_guard"],
        ),
        SeverityRule(
            name="ordinary-day-intrusion",
            rules=intrusion,
            classes=[ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.TWO_WHEELER],
            area_kinds=[ORDINARY],
            time_of_day="day",
            severity=Severity.MEDIUM,
        ),
        SeverityRule(name="animals", classes=[ObjectClass.ANIMAL], severity=Severity.LOW),
    ]


class SeverityConfig(_Strict):
    """Severity rules and the named areas they refer to (defaults: the demo site's)."""

    policy: Literal["max", "first"] = Field(
        default="max",
        description="'max': the highest severity of all matching rules, sharing with all of them; "
        "'first': the first matching rule alone.",
    )
    timezone: str = Field(default="Asia/Seoul", description="IANA time zone of 'night' and 'day'.")
    night_start: time = Field(default=time(19, 0), description="Local time night begins.")
    night_end: time = Field(default=time(6, 0), description="Local time night ends (next morning).")
    areas: list[NamedArea] = Field(default_factory=_demo_areas, description="Named areas of the site.")
    rules: list[SeverityRule] = Field(default_factory=_demo_rules, description="Severity rules, in order.")
    low_confidence: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Events whose detector confidence is below this are one level lower (0: off).",
    )
    motion_only_cap: Severity | None = Field(
        default=Severity.MEDIUM,
        description="Highest severity of an event from a motion-only detector, whose class is a shape "
        "guess (null: no cap).",
    )
    exercise_cap: Severity | None = Field(
        default=None,
        description="Highest severity of an exercise event (null: rated as a real one, so exercises "
        "train on real severities).",
    )

    @model_validator(mode="after")
    def _check_references(self) -> "SeverityConfig":
        names = [area.name for area in self.areas]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"area names must be unique, repeated: {', '.join(duplicates)}")
        if ORDINARY in {area.kind for area in self.areas}:
            raise ValueError(f"area kind {ORDINARY!r} is reserved for places outside every named area")
        for rule in self.rules:
            unknown = sorted(set(rule.areas) - set(names))
            if unknown:
                raise ValueError(
                    f"severity rule {rule.name!r} names unknown areas {unknown}; known: {sorted(names)}"
                )
        if self.night_start == self.night_end:
            raise ValueError(f"night_start and night_end are both {self.night_start}: night would be empty")
        return self


@dataclass(frozen=True, slots=True)
class SeverityDecision:
    """Severity of one event, the agencies to share it with, the rules that decided (names) and why."""

    severity: Severity
    share_with: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    reasons: tuple[SeverityReason, ...] = ()
    """Why, as codes the page renders in the reader's language."""


def default_decision(event: Event) -> SeverityDecision:
    """The built-in default's decision, with its reason (a hub without severity rules)."""
    reason = _reason(SeverityReasonCode.DEFAULT, rule=event.rule.value, **{"class": event.object_class.value})
    return SeverityDecision(severity_for(event.rule, event.object_class), reasons=(reason,))


SeverityHook = Callable[[Event, GeoPoint | None, SeverityDecision], SeverityDecision]
"""Adjusts the decision of an event at a position after the rules (e.g. drones against Remote ID).

Runs inside the ingest transaction: it must be quick, must not touch the database, and must not raise.
"""


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        if name == "Asia/Seoul":  # no tz database installed; Korea keeps UTC+9 all year
            return _KOREA_STANDARD_TIME
        raise ValueError(f"unknown time zone {name!r} (install tzdata or use an IANA name)") from None


class SeverityRules:
    """Evaluates a :class:`SeverityConfig` on events (pure; built once per hub)."""

    def __init__(
        self,
        config: SeverityConfig,
        default: Callable[[RuleKind, ObjectClass], Severity] = severity_for,
    ) -> None:
        self.config = config
        self._default = default
        self._zone = _zone(config.timezone)
        self._areas = [(area, Polygon(area.polygon)) for area in config.areas]
        for _, polygon in self._areas:
            shapely.prepare(polygon)
        self._bounds = [polygon.bounds for _, polygon in self._areas]
        self._extent = (
            min((b[0] for b in self._bounds), default=0.0),
            min((b[1] for b in self._bounds), default=0.0),
            max((b[2] for b in self._bounds), default=-1.0),
            max((b[3] for b in self._bounds), default=-1.0),
        )
        self._decisions: dict[tuple[object, ...], SeverityDecision] = {}
        self._timed = any(rule.time_of_day != "any" for rule in config.rules)

    def areas_at(self, position: GeoPoint | None) -> list[NamedArea]:
        """The named areas containing ``position`` (none when it is unknown)."""
        if position is None:
            return []
        return list(self._areas_containing(position.lon, position.lat))

    def _areas_containing(self, lon: float, lat: float) -> tuple[NamedArea, ...]:
        min_lon, min_lat, max_lon, max_lat = self._extent
        if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
            return ()
        return tuple(
            area
            for (area, polygon), (min_x, min_y, max_x, max_y) in zip(self._areas, self._bounds, strict=True)
            if min_x <= lon <= max_x and min_y <= lat <= max_y and shapely.contains_xy(polygon, lon, lat)
        )

    def is_night(self, event: Event) -> bool:
        """True when the event happened in the night window, local time."""
        local = event.occurred_at.astimezone(self._zone).timetz().replace(tzinfo=None)
        start, end = self.config.night_start, self.config.night_end
        if start > end:
            return local >= start or local < end
        return start <= local < end

    def decide(self, event: Event, position: GeoPoint | None = None) -> SeverityDecision:
        """Severity and sharing for ``event`` located at ``position`` (default: its own ``geo``).

        Decided once per distinct set of inputs the rules read (rule kind, class, the named areas
        containing the position, night or day, low confidence as shown, motion-only, exercise) and
        remembered (bounded): the decision is an immutable value of those alone.
        """
        where_at = position if position is not None else event.geo
        areas = () if where_at is None else self._areas_containing(where_at.lon, where_at.lat)
        low = event.confidence < self.config.low_confidence
        key = (
            event.rule,
            event.object_class,
            where_at is not None,
            tuple(area.name for area in areas),
            self._timed and self.is_night(event),  # no rule asks for the time: never read
            f"{event.confidence:.2f}" if low else None,
            event.detector is not None and event.detector.kind == "motion",
            event.exercise,
        )
        found = self._decisions.get(key)
        if found is None:
            found = self._decide(event, list(areas), known=where_at is not None)
            if len(self._decisions) >= _CACHE_SIZE:
                self._decisions.clear()
            self._decisions[key] = found
        return found

    def _decide(self, event: Event, areas: list[NamedArea], *, known: bool) -> SeverityDecision:
        matched: list[SeverityRule] = []
        for rule in self.config.rules:
            if (rule.rules and event.rule not in rule.rules) or (
                rule.classes and event.object_class not in rule.classes
            ):
                continue
            if self._matches(rule, event, areas, known=known):
                matched.append(rule)
        where = [_reason(SeverityReasonCode.AREA, name=a.name, kind=a.kind) for a in areas]
        if known and not areas:
            where.append(_reason(SeverityReasonCode.ORDINARY_AREA))
        if not matched:
            severity = self._default(event.rule, event.object_class)
            why = _reason(
                SeverityReasonCode.DEFAULT, rule=event.rule.value, **{"class": event.object_class.value}
            )
            return self._adjust(event, SeverityDecision(severity, reasons=(why, *where)))
        if self.config.policy == "first":
            first = matched[0]
            base = SeverityDecision(first.severity, tuple(first.share_with), (first.name,))
            return self._adjust(event, replace(base, reasons=(*self._rule_reasons(event, [first]), *where)))
        top = max(SEVERITY_ORDER[rule.severity] for rule in matched)
        ordered = [r for r in matched if SEVERITY_ORDER[r.severity] == top]
        ordered += [r for r in matched if SEVERITY_ORDER[r.severity] != top]
        base = SeverityDecision(ordered[0].severity, _union(r.share_with for r in matched), _names(ordered))
        deciding = [r for r in ordered if SEVERITY_ORDER[r.severity] == top]
        return self._adjust(event, replace(base, reasons=(*self._rule_reasons(event, deciding), *where)))

    def _adjust(self, event: Event, decision: SeverityDecision) -> SeverityDecision:
        """Confidence, motion-only and exercise adjustments after the rules, each with its reason."""
        severity, reasons = decision.severity, list(decision.reasons)
        threshold = self.config.low_confidence
        if event.confidence < threshold:
            severity = lower_severity(severity)
            reasons.append(
                _reason(
                    SeverityReasonCode.LOW_CONFIDENCE,
                    confidence=f"{event.confidence:.2f}",
                    threshold=f"{threshold:.2f}",
                )
            )
        cap = self.config.motion_only_cap
        if event.detector is not None and event.detector.kind == "motion" and cap is not None:
            severity = _capped(severity, cap)
            reasons.append(_reason(SeverityReasonCode.MOTION_ONLY, cap=cap.value))
        if event.exercise:
            cap = self.config.exercise_cap
            severity = severity if cap is None else _capped(severity, cap)
            reasons.append(
                _reason(SeverityReasonCode.EXERCISE, **({} if cap is None else {"cap": cap.value}))
            )
        return replace(decision, severity=severity, reasons=tuple(reasons))

    def _rule_reasons(self, event: Event, deciding: Sequence[SeverityRule]) -> list[SeverityReason]:
        """The deciding rules, and the time of day when one of them asked for it."""
        found = [
            _reason(SeverityReasonCode.SITE_RULE, name=r.name, severity=r.severity.value) for r in deciding
        ]
        if any(rule.time_of_day != "any" for rule in deciding):
            found.append(
                _reason(SeverityReasonCode.NIGHT if self.is_night(event) else SeverityReasonCode.DAY)
            )
        return found

    def _matches(self, rule: SeverityRule, event: Event, areas: Sequence[NamedArea], *, known: bool) -> bool:
        """The area and time conditions (kind and class were checked by the caller); ``known``: the
        event's position is known (an unknown one is in no named area, and not in an ordinary one)."""
        if rule.areas and not any(area.name in rule.areas for area in areas):
            return False
        ordinary = known and not areas and ORDINARY in rule.area_kinds
        if rule.area_kinds and not (ordinary or any(area.kind in rule.area_kinds for area in areas)):
            return False
        return rule.time_of_day == "any" or self.is_night(event) == (rule.time_of_day == "night")


def _capped(severity: Severity, cap: Severity) -> Severity:
    return cap if SEVERITY_ORDER[severity] > SEVERITY_ORDER[cap] else severity


def _union(groups: Iterable[list[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return tuple(seen)


def _names(rules: Sequence[SeverityRule]) -> tuple[str, ...]:
    return tuple(rule.name for rule in rules)
