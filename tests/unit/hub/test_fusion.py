"""Fusion scoring without a database: gates, scores, best candidate, cameras' fields of view."""

import hashlib
import uuid
from datetime import timedelta

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from hwarang.domain import BoundingBox, Camera, GeoPoint, ObjectClass, RuleKind, SnapshotRef
from hwarang.geo.geodesy import destination
from hwarang.hub.fusion.correlation import (
    CameraIndex,
    Fusion,
    FusionConfig,
    IncidentIndex,
    OpenIncident,
    appearance_histogram,
    appearance_similarity,
)
from tests.hub_support import T0, make_event

HERE = GeoPoint(lat=37.5636, lon=126.9976)


def _incident(**overrides: object) -> OpenIncident:
    event = make_event(track_id=1)
    incident = OpenIncident.from_event(event, uuid.uuid4())
    for name, value in overrides.items():
        setattr(incident, name, value)
    return incident


def _camera(
    camera_id: str, position: GeoPoint, heading: float, *, fov: float = 60.0, range_m: float = 80.0
) -> Camera:
    return Camera(
        id=camera_id,
        center_id="seoul-jung",
        name=camera_id,
        position=position,
        heading_deg=heading,
        fov_deg=fov,
        range_m=range_m,
        sido_code="11",
        sigungu_code="11140",
    )


def test_same_camera_and_track_always_joins_whatever_class_and_distance() -> None:
    fusion = Fusion(FusionConfig())
    incident = _incident()
    far = destination(HERE, 90.0, 5_000.0)
    event = make_event(
        track_id=1,
        occurred_at=T0 + timedelta(seconds=50),
        object_class=ObjectClass.VEHICLE,
        rule=RuleKind.LINE_CROSSING,
        geo=far,
    )
    match = fusion.score(event, incident)
    assert match is not None
    assert (match.score, match.same_object) == (1.0, True)
    assert "same camera cam-01 and track 1" in match.reasons[0]


def test_same_track_beyond_the_window_does_not_join() -> None:
    fusion = Fusion(FusionConfig(window_s=60.0))
    event = make_event(track_id=1, occurred_at=T0 + timedelta(seconds=61))
    assert fusion.score(event, _incident()) is None


def test_other_track_nearby_joins_with_a_score_and_its_reasons() -> None:
    fusion = Fusion(FusionConfig())
    near = destination(HERE, 0.0, 30.0)
    event = make_event(track_id=2, occurred_at=T0 + timedelta(seconds=15), geo=near)
    match = fusion.score(event, _incident())
    assert match is not None and not match.same_object
    # 0.4 * (1 - 15/60) + 0.4 * (1 - 30/150) + 0.2 * 1.0
    assert match.score == pytest.approx(0.4 * 0.75 + 0.4 * 0.8 + 0.2, abs=2e-3)
    assert match.reasons[0] == "15.0 s apart"
    assert match.reasons[1] == "30 m apart"
    assert match.reasons[2] == "same class person"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"occurred_at": T0 + timedelta(seconds=90)}, "time gap over the window"),
        ({"geo": destination(HERE, 45.0, 400.0)}, "too far, no overlapping views"),
        ({"object_class": ObjectClass.VEHICLE}, "incompatible classes"),
        ({"exercise": True}, "exercise and real events never mix"),
    ],
)
def test_other_track_gates(change: dict[str, object], why: str) -> None:
    fusion = Fusion(FusionConfig())
    fields: dict[str, object] = {"occurred_at": T0 + timedelta(seconds=5), **change}
    event = make_event(track_id=2, **fields)  # type: ignore[arg-type]
    assert fusion.score(event, _incident()) is None, why


def test_span_limit_stops_chaining_but_not_the_same_track() -> None:
    fusion = Fusion(FusionConfig(window_s=60.0, max_span_s=60.0))
    incident = _incident(last_seen=T0 + timedelta(seconds=50))  # first_seen T0
    later = T0 + timedelta(seconds=70)  # 20 s after last_seen, 70 s after first_seen
    assert fusion.score(make_event(track_id=2, occurred_at=later), incident) is None
    assert fusion.score(make_event(track_id=1, occurred_at=later), incident) is not None
    assert Fusion(FusionConfig(max_span_s=120.0)).score(make_event(track_id=2, occurred_at=later), incident)


def test_events_before_the_incident_count_their_gap_to_first_seen() -> None:
    fusion = Fusion(FusionConfig())
    incident = _incident(first_seen=T0 + timedelta(seconds=30), last_seen=T0 + timedelta(seconds=40))
    match = fusion.score(make_event(track_id=2, occurred_at=T0 + timedelta(seconds=10)), incident)
    assert match is not None and match.reasons[0] == "20.0 s apart"


def test_class_compatibility_groups_and_unknown() -> None:
    fusion = Fusion(FusionConfig())
    assert fusion.class_score(ObjectClass.PERSON, ObjectClass.PERSON) == 1.0
    assert fusion.class_score(ObjectClass.VEHICLE, ObjectClass.TWO_WHEELER) == 0.7
    assert fusion.class_score(ObjectClass.UNKNOWN, ObjectClass.BOAT) == 0.5
    assert fusion.class_score(ObjectClass.PERSON, ObjectClass.VEHICLE) is None
    strict = Fusion(FusionConfig(class_groups=[], unknown_matches_any=False))
    assert strict.class_score(ObjectClass.VEHICLE, ObjectClass.TWO_WHEELER) is None
    assert strict.class_score(ObjectClass.UNKNOWN, ObjectClass.PERSON) is None


def test_a_class_in_two_groups_is_refused() -> None:
    with pytest.raises(ValidationError, match="two class_groups"):
        FusionConfig(class_groups=[[ObjectClass.VEHICLE, ObjectClass.BOAT], [ObjectClass.BOAT]])


def test_min_score_rejects_weak_matches() -> None:
    event = make_event(track_id=2, occurred_at=T0 + timedelta(seconds=55), geo=destination(HERE, 0.0, 140.0))
    weak = Fusion(FusionConfig()).score(event, _incident())
    assert weak is not None and weak.score < 0.5
    assert Fusion(FusionConfig(min_score=0.5)).score(event, _incident()) is None


def test_best_prefers_the_same_object_then_the_score() -> None:
    fusion = Fusion(FusionConfig())
    same_track = _incident(geo=destination(HERE, 0.0, 140.0))
    close = _incident(tracks={("cam-01", 9)})
    event = make_event(track_id=1, occurred_at=T0 + timedelta(seconds=1))
    match = fusion.best(event, [close, same_track])
    assert match is not None and match.incident_id == same_track.id
    other = make_event(track_id=5, occurred_at=T0 + timedelta(seconds=1))
    farther = _incident(tracks={("cam-01", 7)}, geo=destination(HERE, 0.0, 100.0))
    best = fusion.best(other, [farther, close])
    assert best is not None and best.incident_id == close.id


def test_fields_of_view_that_overlap_join_cameras_far_apart() -> None:
    west = destination(HERE, 270.0, 60.0)
    east = destination(HERE, 90.0, 60.0)
    cameras = CameraIndex(
        [
            _camera("cam-west", west, 90.0),  # looking east
            _camera("cam-east", east, 270.0),  # looking west: the views overlap in the middle
            _camera("cam-away", east, 90.0),  # looking away from both
        ],
        max_distance_m=20.0,
    )
    assert cameras.overlaps("cam-west", "cam-east")
    assert not cameras.overlaps("cam-west", "cam-away")
    assert not cameras.overlaps("cam-west", "cam-unknown")
    assert cameras.neighbours("cam-west") >= {"cam-west", "cam-east"}
    assert cameras.neighbours("cam-unknown") == {"cam-unknown"}
    fusion = Fusion(FusionConfig(max_distance_m=20.0), cameras)
    incident = OpenIncident.from_event(make_event(camera_id="cam-west", geo=west), uuid.uuid4())
    seen_east = make_event(camera_id="cam-east", track_id=4, occurred_at=T0 + timedelta(seconds=3), geo=east)
    match = fusion.score(seen_east, incident)
    assert match is not None
    assert "fields of view of cam-east and cam-west overlap" in match.reasons
    seen_away = make_event(camera_id="cam-away", track_id=4, occurred_at=T0 + timedelta(seconds=3), geo=east)
    assert fusion.score(seen_away, incident) is None
    no_fov = Fusion(FusionConfig(max_distance_m=20.0, fov_overlap=False), cameras)
    assert no_fov.score(seen_east, incident) is None


def test_camera_positions_stand_in_for_missing_event_positions() -> None:
    cameras = CameraIndex([_camera("cam-01", HERE, 0.0)], max_distance_m=150.0)
    fusion = Fusion(FusionConfig(), cameras)
    incident = OpenIncident.from_event(make_event(geo=None), uuid.uuid4())
    match = fusion.score(make_event(track_id=2, geo=None), incident)
    assert match is not None and "0 m apart" in match.reasons
    unknown = Fusion(FusionConfig())
    same = unknown.score(make_event(track_id=2, geo=None), incident)
    assert same is not None and "same camera cam-01" in same.reasons


def test_index_joins_later_events_of_a_batch_and_never_changes_what_it_was_given() -> None:
    stored = _incident()
    before = (stored.last_seen, set(stored.tracks))
    index = IncidentIndex(Fusion(FusionConfig()), [stored])
    joined, match = index.assign(make_event(track_id=2, occurred_at=T0 + timedelta(seconds=5)))
    assert match is not None and joined.id == stored.id
    assert (stored.last_seen, stored.tracks) == before, "the given incident is copied, not changed"
    assert joined.tracks == {("cam-01", 1), ("cam-01", 2)}
    opened, none = index.assign(make_event(track_id=3, object_class=ObjectClass.VEHICLE))
    assert none is None and opened.id != stored.id
    again, match2 = index.assign(
        make_event(track_id=4, object_class=ObjectClass.TWO_WHEELER, occurred_at=T0 + timedelta(seconds=2))
    )
    assert match2 is not None and again.id == opened.id


def test_index_without_fusion_opens_one_incident_per_event() -> None:
    index = IncidentIndex(None, [_incident()])
    first, m1 = index.assign(make_event(track_id=1))
    second, m2 = index.assign(make_event(track_id=1, occurred_at=T0 + timedelta(seconds=1)))
    assert (m1, m2) == (None, None) and first.id != second.id


def _snapshot(colour: tuple[int, int, int]) -> tuple[bytes, SnapshotRef]:
    image = np.full((120, 160, 3), 40, dtype=np.uint8)
    image[20:100, 40:80] = colour
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    data = encoded.tobytes()
    return data, SnapshotRef(sha256=hashlib.sha256(data).hexdigest(), width=160, height=120)


def test_appearance_histograms_tell_colours_apart() -> None:
    box = BoundingBox(x1=40, y1=20, x2=80, y2=100)
    red, red_ref = _snapshot((0, 0, 220))
    blue, blue_ref = _snapshot((220, 0, 0))
    a, b = appearance_histogram(red, box, red_ref), appearance_histogram(blue, box, blue_ref)
    assert a is not None and b is not None
    assert appearance_similarity(a, a) == pytest.approx(1.0, abs=1e-6)
    assert appearance_similarity(a, b) < 0.2
    outside = BoundingBox(x1=100, y1=20, x2=400, y2=100)
    assert appearance_histogram(red, outside, red_ref) is None, "box beyond a downscaled snapshot"
    assert appearance_histogram(b"not a jpeg", box, red_ref) is None
    with pytest.raises(ValueError, match="differ in shape"):
        appearance_similarity(a, [1.0])


def test_appearance_weight_moves_the_score() -> None:
    box = BoundingBox(x1=40, y1=20, x2=80, y2=100)
    red_jpeg, red_ref = _snapshot((0, 0, 220))
    blue_jpeg, blue_ref = _snapshot((220, 0, 0))
    red, blue = appearance_histogram(red_jpeg, box, red_ref), appearance_histogram(blue_jpeg, box, blue_ref)
    incident = _incident(appearance=red)
    event = make_event(track_id=2, occurred_at=T0 + timedelta(seconds=10))
    fusion = Fusion(FusionConfig(appearance_weight=0.5))
    alike, unlike = fusion.score(event, incident, red), fusion.score(event, incident, blue)
    assert alike is not None and unlike is not None
    assert alike.score > unlike.score
    assert any(reason.startswith("appearance ") for reason in alike.reasons)
    gated = Fusion(FusionConfig(appearance_weight=1.0, min_score=0.6))
    assert gated.score(event, incident, blue) is None
    assert gated.score(event, incident, red) is not None
    off = Fusion(FusionConfig())
    plain = off.score(event, incident, blue)
    assert plain is not None and not any(r.startswith("appearance") for r in plain.reasons)
