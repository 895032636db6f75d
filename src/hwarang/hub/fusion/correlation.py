"""Fusion: which open incident an event belongs to (pure; no database).

An event joins the best-scoring open incident (state not resolved or false alarm, not merged) that
passes every gate; otherwise it opens a new incident.

- **Same object**: the same camera and the same track id, within ``window_s`` of the incident's
  time span, always joins (score 1.0), whatever the class or rule (one person crossing two zones).
- **Otherwise** all of these must hold:

  * both are exercise events or both are real ones;
  * both lie in the same local government (sigungu): an incident never carries another
    jurisdiction's evidence to the users of its own (need-to-know; merge by hand when needed);
  * the classes are compatible: equal, in one of ``class_groups``, or one is ``unknown`` (when
    ``unknown_matches_any``);
  * the time gap between the event and the incident's span ``[first_seen, last_seen]`` is at most
    ``window_s``, and the incident's span with the event is at most ``max_span_s`` (so a busy scene
    does not chain into one endless incident; the same track still extends it);
  * the event's position (its ``geo``, else its camera's) lies within ``max_distance_m`` of the
    incident's (its last known ``geo``, else its camera's), or the fields of view of the event's
    camera and one of the incident's cameras overlap (``fov_overlap``), or, positions unknown,
    it is the same camera.

Score of a candidate (0..1, higher is better; the best wins, ties go to the most recent incident)::

    (0.4 * time + 0.4 * space + 0.2 * class + w * appearance) / (1.0 + w)

with ``time = 1 - gap / window_s``, ``space = 1 - distance / max_distance_m`` (0.5 when only the
fields of view overlap, or for the same camera without positions), ``class`` 1.0 for the same class,
0.7 for a class group, 0.5 with ``unknown``, and ``appearance`` the histogram similarity (0..1) of the
two objects' crops, counted only when ``appearance_weight`` (``w``) > 0 and both crops are known.
A candidate scoring below ``min_score`` is not joined. Every match carries the reasons shown in the
incident history.
"""

import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pydantic import BaseModel, ConfigDict, Field, model_validator
from shapely.geometry import Polygon

from hwarang.domain import BoundingBox, Camera, Event, GeoPoint, ObjectClass, SnapshotRef
from hwarang.geo.calibration import fov_outline
from hwarang.geo.geodesy import haversine_m
from hwarang.hub.fusion.severity import SeverityConfig

__all__ = [
    "CameraIndex",
    "Fusion",
    "FusionConfig",
    "IncidentIndex",
    "Match",
    "OpenIncident",
    "appearance_histogram",
    "appearance_similarity",
]

TIME_WEIGHT = 0.4
SPACE_WEIGHT = 0.4
CLASS_WEIGHT = 0.2
SAME_CLASS, GROUP_CLASS, UNKNOWN_CLASS = 1.0, 0.7, 0.5
SPACE_WITHOUT_DISTANCE = 0.5
_HIST_BINS = (8, 4)  # hue x saturation
Histogram = npt.NDArray[np.float32]
TrackKey = tuple[str, int]
"""(camera id, track id): one object as one camera follows it."""


class FusionConfig(BaseModel):
    """How the hub correlates events into incidents, and how severe they are (the ``fusion:`` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Correlate events; false: one incident per event.")
    window_s: float = Field(
        default=60.0, gt=0.0, le=86_400.0, description="Largest time gap between an event and an incident."
    )
    max_span_s: float = Field(
        default=60.0,
        gt=0.0,
        le=86_400.0,
        description="Longest incident another object's event may join (the same track always may).",
    )
    max_distance_m: float = Field(
        default=150.0, gt=0.0, le=50_000.0, description="Largest distance between event and incident."
    )
    fov_overlap: bool = Field(
        default=True, description="Events of cameras whose fields of view overlap may join at any distance."
    )
    class_groups: list[list[ObjectClass]] = Field(
        default_factory=lambda: [[ObjectClass.VEHICLE, ObjectClass.TWO_WHEELER]],
        description="Groups of object classes that may share an incident (a class always matches itself).",
    )
    unknown_matches_any: bool = Field(default=True, description="An 'unknown' object matches any class.")
    appearance_weight: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Weight of the colour-histogram similarity of the objects' snapshot crops (0: off; "
        "costs a JPEG decode per event with a snapshot).",
    )
    min_score: float = Field(default=0.0, ge=0.0, le=1.0, description="Lowest score that joins.")
    severity: SeverityConfig = Field(
        default_factory=SeverityConfig, description="Severity and default sharing rules, and named areas."
    )

    @model_validator(mode="after")
    def _check_groups(self) -> "FusionConfig":
        seen: dict[ObjectClass, int] = {}
        for index, group in enumerate(self.class_groups):
            for cls in group:
                if seen.setdefault(cls, index) != index:
                    raise ValueError(f"class {cls} is in two class_groups; merge those groups")
        return self


@dataclass(slots=True)
class OpenIncident:
    """What fusion needs of an open incident; updated as events of a batch join it."""

    id: uuid.UUID
    camera_id: str
    object_class: ObjectClass
    exercise: bool
    sigungu_code: str
    first_seen: datetime
    last_seen: datetime
    geo: GeoPoint | None
    tracks: set[TrackKey] = field(default_factory=set)
    appearance: Histogram | None = None

    @classmethod
    def from_event(
        cls, event: Event, incident_id: uuid.UUID, appearance: Histogram | None = None
    ) -> "OpenIncident":
        """A new incident opened by ``event``."""
        return cls(
            id=incident_id,
            camera_id=event.camera_id,
            object_class=event.object_class,
            exercise=event.exercise,
            sigungu_code=event.sigungu_code,
            first_seen=event.occurred_at,
            last_seen=event.occurred_at,
            geo=event.geo,
            tracks={(event.camera_id, event.track_id)},
            appearance=appearance,
        )

    @property
    def cameras(self) -> set[str]:
        """Every camera that saw one of its objects."""
        return {self.camera_id, *(camera for camera, _ in self.tracks)}

    def copy(self) -> "OpenIncident":
        """An independent copy (fusion changes the one it is given)."""
        return OpenIncident(
            self.id,
            self.camera_id,
            self.object_class,
            self.exercise,
            self.sigungu_code,
            self.first_seen,
            self.last_seen,
            self.geo,
            set(self.tracks),
            self.appearance,
        )

    def observe(self, event: Event, appearance: Histogram | None = None) -> None:
        """Take ``event`` in: widen the time span, follow the newest position and look."""
        if event.occurred_at >= self.last_seen:
            self.last_seen = event.occurred_at
            self.geo = event.geo or self.geo
            self.appearance = appearance if appearance is not None else self.appearance
        self.first_seen = min(self.first_seen, event.occurred_at)
        self.tracks.add((event.camera_id, event.track_id))


@dataclass(frozen=True, slots=True)
class Match:
    """An incident an event may join, its score and why."""

    incident_id: uuid.UUID
    score: float
    reasons: tuple[str, ...]
    same_object: bool = False
    """Same camera and track: preferred over any other match."""


class CameraIndex:
    """Positions, fields of view and neighbours of the known cameras (built from the cameras table)."""

    def __init__(self, cameras: Iterable[Camera], *, max_distance_m: float) -> None:
        self._cameras = {camera.id: camera for camera in cameras}
        self._max_distance_m = max_distance_m
        self._sectors: dict[str, Polygon] = {}
        self._overlaps: dict[tuple[str, str], bool] = {}
        self._neighbours: dict[str, frozenset[str]] = {}
        ids = sorted(self._cameras)
        self._ids = ids
        self._tree = shapely.STRtree([self._sector(camera_id) for camera_id in ids]) if ids else None

    def __len__(self) -> int:
        return len(self._cameras)

    def position(self, camera_id: str) -> GeoPoint | None:
        """Where the camera stands, or None when it is not registered."""
        camera = self._cameras.get(camera_id)
        return None if camera is None else camera.position

    def overlaps(self, a: str, b: str) -> bool:
        """True when both cameras are known and their view sectors share ground."""
        if a == b:
            return a in self._cameras
        key = (a, b) if a < b else (b, a)
        found = self._overlaps.get(key)
        if found is None:
            found = a in self._cameras and b in self._cameras and self._sector(a).intersects(self._sector(b))
            self._overlaps[key] = found
        return found

    def neighbours(self, camera_id: str) -> frozenset[str]:
        """The camera and every known camera whose events may fuse with its own (FOV or distance)."""
        found = self._neighbours.get(camera_id)
        if found is not None:
            return found
        camera = self._cameras.get(camera_id)
        if camera is None or self._tree is None:
            found = frozenset({camera_id})
        else:
            # anything seen by a camera lies within its range: grow its sector by the largest distance
            reach = self._sector(camera_id).buffer(_degrees(self._max_distance_m, camera.position.lat))
            hits = self._tree.query(reach, predicate="intersects")
            found = frozenset({camera_id, *(self._ids[int(i)] for i in hits)})
        self._neighbours[camera_id] = found
        return found

    def _sector(self, camera_id: str) -> Polygon:
        sector = self._sectors.get(camera_id)
        if sector is None:
            ring = fov_outline(self._cameras[camera_id])
            sector = Polygon([(p.lon, p.lat) for p in ring]).buffer(0)
            self._sectors[camera_id] = sector
        return sector


def _degrees(metres: float, lat: float) -> float:
    """A distance in degrees that covers ``metres`` in every direction at latitude ``lat``."""
    return metres / (111_320.0 * max(0.01, math.cos(math.radians(lat))))


class Fusion:
    """Scores events against open incidents under a :class:`FusionConfig`."""

    def __init__(self, config: FusionConfig, cameras: CameraIndex | None = None) -> None:
        self.config = config
        self.cameras = cameras or CameraIndex((), max_distance_m=config.max_distance_m)
        self._group = {cls: index for index, group in enumerate(config.class_groups) for cls in group}

    def class_score(self, a: ObjectClass, b: ObjectClass) -> float | None:
        """1.0 same class, 0.7 same group, 0.5 with 'unknown'; None when incompatible."""
        if a is b:
            return SAME_CLASS
        group = self._group.get(a)
        if group is not None and group == self._group.get(b):
            return GROUP_CLASS
        if self.config.unknown_matches_any and ObjectClass.UNKNOWN in (a, b):
            return UNKNOWN_CLASS
        return None

    def score(
        self, event: Event, incident: OpenIncident, appearance: Histogram | None = None
    ) -> Match | None:
        """The match of ``event`` with ``incident``, or None when a gate fails."""
        rating = self._rate(event, incident, appearance)
        return None if rating is None else self._explain(event, incident, rating)

    def best(
        self, event: Event, incidents: Iterable[OpenIncident], appearance: Histogram | None = None
    ) -> Match | None:
        """The best match among ``incidents``: the same object first, then the highest score.

        Ties go to the most recently seen incident, then to the smallest id.
        """
        chosen: tuple[OpenIncident, _Rating] | None = None
        for incident in incidents:
            rating = self._rate(event, incident, appearance)
            if rating is None:
                continue
            if chosen is None or _beats(incident, rating, *chosen):
                chosen = (incident, rating)
        return None if chosen is None else self._explain(event, *chosen)

    def _rate(self, event: Event, incident: OpenIncident, appearance: Histogram | None) -> "_Rating | None":
        config = self.config
        at = event.occurred_at
        gap = max(0.0, (incident.first_seen - at).total_seconds(), (at - incident.last_seen).total_seconds())
        if gap > config.window_s:
            return None
        if (event.camera_id, event.track_id) in incident.tracks:
            return _Rating(True, 1.0, gap)
        if event.exercise != incident.exercise or event.sigungu_code != incident.sigungu_code:
            return None
        span = (max(incident.last_seen, at) - min(incident.first_seen, at)).total_seconds()
        if span > config.max_span_s:
            return None
        class_score = self.class_score(event.object_class, incident.object_class)
        if class_score is None:
            return None
        space = self._space(event, incident)
        if space is None:
            return None
        space_score, space_reason = space
        total = (
            TIME_WEIGHT * (1.0 - gap / config.window_s)
            + SPACE_WEIGHT * space_score
            + CLASS_WEIGHT * class_score
        )
        weights = TIME_WEIGHT + SPACE_WEIGHT + CLASS_WEIGHT
        similarity = None
        if config.appearance_weight > 0.0 and appearance is not None and incident.appearance is not None:
            similarity = appearance_similarity(appearance, incident.appearance)
            total += config.appearance_weight * similarity
            weights += config.appearance_weight
        score = total / weights
        if score < config.min_score:
            return None
        return _Rating(False, round(score, 4), gap, space_reason, class_score, similarity)

    def _explain(self, event: Event, incident: OpenIncident, rating: "_Rating") -> Match:
        if rating.same_object:
            reason = f"same camera {event.camera_id} and track {event.track_id}, {rating.gap:.1f} s apart"
            return Match(incident.id, 1.0, (reason,), same_object=True)
        classes = (
            f"same class {event.object_class}"
            if rating.class_score == SAME_CLASS
            else f"compatible classes {event.object_class}/{incident.object_class}"
        )
        kind, value = rating.space
        if kind == "distance":
            where = f"{value:.0f} m apart"
        elif kind == "fov":
            where = f"fields of view of {event.camera_id} and {value} overlap"
        else:
            where = f"same camera {event.camera_id}"
        reasons = [f"{rating.gap:.1f} s apart", where, classes]
        if rating.similarity is not None:
            reasons.append(f"appearance {rating.similarity:.2f}")
        return Match(incident.id, rating.score, tuple(reasons))

    def _space(self, event: Event, incident: OpenIncident) -> tuple[float, tuple[str, Any]] | None:
        """Score and why: ("distance", metres), ("fov", overlapping camera) or ("camera", same camera)."""
        here = event.geo or self.cameras.position(event.camera_id)
        there = incident.geo or self.cameras.position(incident.camera_id)
        max_m = self.config.max_distance_m
        if here is not None and there is not None:
            distance = haversine_m(here, there)
            if distance <= max_m:
                return 1.0 - distance / max_m, ("distance", distance)
        if self.config.fov_overlap and len(self.cameras):
            for camera in sorted(incident.cameras - {event.camera_id}):
                if self.cameras.overlaps(event.camera_id, camera):
                    return SPACE_WITHOUT_DISTANCE, ("fov", camera)
        if (here is None or there is None) and event.camera_id in incident.cameras:
            return SPACE_WITHOUT_DISTANCE, ("camera", event.camera_id)
        return None


@dataclass(frozen=True, slots=True)
class _Rating:
    """A candidate's score and what :meth:`Fusion._explain` turns into reasons (for the winner only)."""

    same_object: bool
    score: float
    gap: float
    space: tuple[str, Any] = ("camera", None)
    class_score: float = SAME_CLASS
    similarity: float | None = None


def _beats(incident: OpenIncident, rating: _Rating, other: OpenIncident, other_rating: _Rating) -> bool:
    """Same object first, then score, then the most recently seen, then the smaller id."""
    key = (rating.same_object, rating.score, incident.last_seen)
    other_key = (other_rating.same_object, other_rating.score, other.last_seen)
    if key != other_key:
        return key > other_key
    return incident.id.int < other.id.int


class IncidentIndex:
    """The open incidents of one batch by camera; events join them or open new ones.

    The incidents given are never changed: the first event that joins one works on a copy, which
    :attr:`incidents` then holds (so a batch that is planned again starts from the same state).
    """

    def __init__(self, fusion: Fusion | None, incidents: Iterable[OpenIncident] = ()) -> None:
        self._fusion = fusion
        self.incidents: dict[uuid.UUID, OpenIncident] = {}
        self._owned: set[uuid.UUID] = set()
        self._by_camera: dict[str, dict[uuid.UUID, None]] = {}
        for incident in incidents:
            self._add(incident)

    def assign(
        self,
        event: Event,
        *,
        appearance: Histogram | None = None,
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> tuple[OpenIncident, Match | None]:
        """The incident ``event`` joins (with the match) or opens (match None), already updated."""
        match = None if self._fusion is None else self._match(self._fusion, event, appearance)
        if match is None:
            incident = OpenIncident.from_event(event, new_id(), appearance)
            self._add(incident)
            self._owned.add(incident.id)
            return incident, None
        incident = self.incidents[match.incident_id]
        if incident.id not in self._owned:
            incident = self.incidents[incident.id] = incident.copy()
            self._owned.add(incident.id)
        incident.observe(event, appearance)
        self._by_camera.setdefault(event.camera_id, {})[incident.id] = None
        return incident, match

    def _match(self, fusion: Fusion, event: Event, appearance: Histogram | None) -> Match | None:
        ids: dict[uuid.UUID, None] = {}
        for camera_id in fusion.cameras.neighbours(event.camera_id):
            ids.update(self._by_camera.get(camera_id, {}))
        return fusion.best(event, [self.incidents[incident_id] for incident_id in ids], appearance)

    def _add(self, incident: OpenIncident) -> None:
        incident_id = incident.id
        self.incidents[incident_id] = incident
        by_camera = self._by_camera
        by_camera.setdefault(incident.camera_id, {})[incident_id] = None
        for camera_id, _track in incident.tracks:
            if camera_id != incident.camera_id:
                by_camera.setdefault(camera_id, {})[incident_id] = None


def appearance_histogram(jpeg: bytes, box: BoundingBox, ref: SnapshotRef) -> Histogram | None:
    """Normalised hue x saturation histogram of the object's crop in its snapshot, or None.

    The crop is the box shrunk by 15 % on every side (the edge draws the box outline on the
    snapshot). None when the box does not lie inside the snapshot (the edge downscaled the frame),
    the crop is empty, or the JPEG does not decode.
    """
    import cv2

    if box.x2 > ref.width + 1 or box.y2 > ref.height + 1:
        return None
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    w, h = box.x2 - box.x1, box.y2 - box.y1
    x1, x2 = int(box.x1 + 0.15 * w), math.ceil(box.x2 - 0.15 * w)
    y1, y2 = int(box.y1 + 0.15 * h), math.ceil(box.y2 - 0.15 * h)
    crop = image[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)]
    if crop.size == 0:
        return None
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(_HIST_BINS), [0, 180, 0, 256]).astype(np.float32).ravel()
    total = float(hist.sum())
    return None if total <= 0.0 else hist / total


def appearance_similarity(a: Sequence[float] | Histogram, b: Sequence[float] | Histogram) -> float:
    """Bhattacharyya coefficient of two normalised histograms: 1.0 identical, 0.0 disjoint."""
    left, right = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if left.shape != right.shape:
        raise ValueError(f"histograms differ in shape: {left.shape} and {right.shape}")
    return float(min(1.0, np.sqrt(left * right).sum()))
