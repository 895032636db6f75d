"""From a validated scenario to a plan: each inject at an absolute time, at a resolved place.

Places are resolved and checked against the region catalog (17 sido, 253 sigungu, 11 zones) and,
when given, the site's cameras; problems point at the line of the offending field, like schema
errors do.
"""

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hwarang.domain import Camera, GeoPoint
from hwarang.exercise.scenario import (
    EventInject,
    Expected,
    FigureInject,
    Inject,
    InjectAction,
    LoadedScenario,
    ScenarioError,
    ThreatType,
)
from hwarang.exercise.yamlmarks import Problem
from hwarang.geo.errors import GeoError
from hwarang.geo.regions import RegionCatalog, default_catalog

EXERCISE_CENTER = "exercise"
"""Center id of events injected on the bus without a real camera."""


class PlannedInject(BaseModel):
    """An inject with its absolute time and resolved place."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    threat: ThreatType
    at: AwareDatetime = Field(description="When it is injected.")
    offset_s: float = Field(ge=0.0, description="Seconds after the exercise start.")
    action: InjectAction
    expected: Expected
    zone_id: int
    sido_code: str | None = Field(description="None when only the zone is known.")
    sigungu_code: str | None = Field(description="The unit (a 일반구 in big cities), when known.")
    local_government_code: str | None = Field(description="The autonomous local government evaluated.")
    camera_id: str = Field(description="The camera that sees it, or a stand-in id for bus events.")
    center_id: str
    position: GeoPoint | None = None
    place_name: str = ""

    @property
    def kind(self) -> str:
        """``figure`` or ``event``."""
        return self.action.type


class ExercisePlan(BaseModel):
    """An exercise ready to run and to measure."""

    model_config = ConfigDict(frozen=True)

    name: str
    source: str = Field(description="The scenario file (or 'simulation').")
    start: AwareDatetime
    end: AwareDatetime
    zones: tuple[int, ...]
    injects: tuple[PlannedInject, ...]

    def inject(self, inject_id: str) -> PlannedInject:
        """The inject with this id (KeyError when there is none)."""
        for inject in self.injects:
            if inject.id == inject_id:
                return inject
        raise KeyError(f"exercise {self.name!r} has no inject {inject_id!r}")


class _Resolver:
    def __init__(
        self,
        loaded: LoadedScenario,
        catalog: RegionCatalog,
        cameras: Mapping[str, Camera] | None,
        agencies: Collection[str] | None,
    ) -> None:
        self.loaded = loaded
        self.catalog = catalog
        self.zone_table = catalog.zones()
        self.cameras = cameras
        self.agencies = agencies
        self.problems: list[Problem] = []

    def fail(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(self.loaded.problem(path, message))

    def check_scenario(self) -> None:
        scenario = self.loaded.scenario
        known = {zone.id for zone in self.zone_table.zones}
        for i, zone_id in enumerate(scenario.zones):
            if zone_id not in known:
                self.fail(("zones", i), f"unknown exercise zone {zone_id} (known: 1..{max(known)})")
        seen: dict[str, int] = {}
        for i, inject in enumerate(scenario.injects):
            if inject.id in seen:
                self.fail(("injects", i, "id"), f"id {inject.id!r} is also used by injects.{seen[inject.id]}")
            seen.setdefault(inject.id, i)
            if inject.at > scenario.length_s:
                ends = f"{scenario.length_s:g} s"
                self.fail(("injects", i, "at"), f"{inject.at:g} s is after the exercise's end ({ends})")

    def _region(self, path: tuple[str | int, ...], code: str, level: str) -> str | None:
        try:
            region = self.catalog.get(code)
        except GeoError:
            self.fail(path, f"unknown {level} code {code!r}")
            return None
        if region.level != level:
            self.fail(path, f"{code} ({region.name}) is a {region.level} code, not a {level} code")
            return None
        return region.parent_code if level == "sigungu" else region.code

    def resolve(self, i: int, inject: Inject, start: datetime) -> PlannedInject | None:
        where: tuple[str | int, ...] = ("injects", i, "place")
        place = inject.place
        sido, sigungu, position, center = place.sido, place.sigungu, place.position, EXERCISE_CENTER
        camera = None if place.camera is None or self.cameras is None else self.cameras.get(place.camera)
        if place.camera is not None and self.cameras is not None and camera is None:
            self.fail((*where, "camera"), f"camera {place.camera!r} is not a camera of the site")
        if camera is not None:
            sido, sigungu = sido or camera.sido_code, sigungu or camera.sigungu_code
            position, center = position or camera.position, camera.center_id
        if sigungu is not None:
            parent = self._region((*where, "sigungu"), sigungu, "sigungu")
            if parent is not None and sido is not None and parent != sido:
                self.fail((*where, "sido"), f"local government {sigungu} is in sido {parent}, not {sido}")
            sido = sido or parent
        elif position is not None:
            found = self.catalog.lookup(position.lat, position.lon)
            if found is None:
                self.fail((*where, "position"), "not in a Korean sido (at sea? give sido or sigungu too)")
            else:
                sido, sigungu = sido or found.sido_code, found.sigungu_code
        self._check_action(i, inject, sigungu=sigungu)
        if sido is not None and place.sigungu is None and place.sido is not None:
            self._region((*where, "sido"), sido, "sido")
        zone = None if sido is None else self.zone_table.zone_for_sido(sido)
        zone_id = place.zone if zone is None else zone.id
        if place.zone is not None and zone is not None and place.zone != zone.id:
            self.fail((*where, "zone"), f"sido {sido} is in zone {zone.id} ({zone.name}), not {place.zone}")
        if zone_id is None:
            self.fail(where, "cannot tell the exercise zone of this place")
            return None
        if zone_id not in self.loaded.scenario.zones:
            self.fail(where, f"the place is in zone {zone_id}, which is not in the exercise's zones")
        if position is None and sigungu is not None:
            position = self._centre(sigungu)
        local = None if sigungu is None else self._local_government(sigungu)
        return PlannedInject(
            id=inject.id,
            title=inject.title,
            threat=inject.threat,
            at=start + timedelta(seconds=inject.at),
            offset_s=inject.at,
            action=inject.inject,
            expected=inject.expected,
            zone_id=zone_id,
            sido_code=sido,
            sigungu_code=sigungu,
            local_government_code=local,
            camera_id=place.camera or f"ex-{inject.id}"[:64],
            center_id=center,
            position=position,
            place_name=place.name or "",
        )

    def _centre(self, code: str) -> GeoPoint | None:
        try:
            point = self.catalog.boundary(code).representative_point()
        except GeoError:
            return None
        return GeoPoint(lat=point.y, lon=point.x)

    def _local_government(self, sigungu: str) -> str | None:
        try:
            return self.catalog.local_government(sigungu).code
        except GeoError:
            return None

    def _check_action(self, i: int, inject: Inject, *, sigungu: str | None) -> None:
        action = inject.inject
        if isinstance(action, FigureInject) and inject.place.camera is None:
            self.fail(("injects", i, "place"), "a figure inject needs place.camera (the camera to draw into)")
        if isinstance(action, EventInject) and sigungu is None:
            self.fail(
                ("injects", i, "place"),
                "an event inject needs a local government: give sigungu, a position on land or a site camera",
            )
        for j, requirement in enumerate(inject.expected.agencies):
            code = requirement.code
            if code is not None and self.agencies is not None and code not in self.agencies:
                self.fail(
                    ("injects", i, "expected", "agencies", j, "code"),
                    f"agency {requirement.code!r} is not registered",
                )


def plan_exercise(
    loaded: LoadedScenario,
    *,
    start: datetime | None = None,
    catalog: RegionCatalog | None = None,
    cameras: Mapping[str, Camera] | None = None,
    agencies: Collection[str] | None = None,
) -> ExercisePlan:
    """Resolve every inject's place and time; ScenarioError lists each problem with its line.

    ``start`` overrides the scenario's start (required when the scenario has none); ``cameras`` and
    ``agencies`` (registered codes), when given, are checked too.
    """
    scenario = loaded.scenario
    resolver = _Resolver(loaded, catalog or default_catalog(), cameras, agencies)
    resolver.check_scenario()
    begin = start or scenario.start
    if begin is None:
        resolver.fail(("name",), "the scenario has no start time: set 'start' or give one when running it")
    planned = []
    for i, inject in enumerate(scenario.injects):
        item = resolver.resolve(i, inject, begin or datetime.now().astimezone())
        if item is not None:
            planned.append(item)
    if resolver.problems or begin is None:
        problems = sorted(resolver.problems, key=lambda p: (p.line, p.column))
        raise ScenarioError(loaded.source, problems)
    return ExercisePlan(
        name=scenario.name,
        source=loaded.source,
        start=begin,
        end=begin + timedelta(seconds=scenario.length_s),
        zones=tuple(scenario.zones),
        injects=tuple(sorted(planned, key=lambda p: (p.at, p.id))),
    )
