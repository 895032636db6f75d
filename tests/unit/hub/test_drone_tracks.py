"""Drone tracks: bounded history, speed, staleness, order, proximity, and the Remote ID adapter."""

from datetime import UTC, datetime, timedelta

import pytest

from hwarang.domain import DroneReport, DroneSource, GeoPoint
from hwarang.geo.geodesy import destination
from hwarang.hub.drones.tracks import DroneTracker, report_from_remote_id
from hwarang.interop.opendroneid import decode_stream
from hwarang.interop.remote_id_flight import generate_flight
from hwarang.interop.remote_id_state import RemoteIdAssembler

T0 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)
HOME = GeoPoint(lat=37.56, lon=126.80)


def report(seconds: float, north_m: float = 0.0, *, track: str = "DRONE1", **kw: object) -> DroneReport:
    here = destination(HOME, 0.0, north_m)
    fields: dict[str, object] = {
        "source": DroneSource.REMOTE_ID,
        "track_id": track,
        "lat": here.lat,
        "lon": here.lon,
        "alt_m": 100.0,
        "time": T0 + timedelta(seconds=seconds),
    }
    fields.update(kw)
    return DroneReport.model_validate(fields)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_history_is_bounded_oldest_dropped_and_speed_derived() -> None:
    tracker = DroneTracker(history=5, clock=Clock())
    for i in range(8):
        tracker.update(report(i, north_m=10.0 * i))
    track = tracker.get("remote_id:DRONE1")
    assert track is not None and track.reports == 8 and len(track.history) == 5
    assert [p.time for p in track.history] == [T0 + timedelta(seconds=i) for i in range(3, 8)]
    assert track.first_seen == T0
    assert track.latest.speed_ms == pytest.approx(10.0, rel=1e-3)  # 10 m each second
    assert track.history[-1].alt_m == 100.0


def test_reported_speed_wins_and_out_of_order_reports_do_not_move_the_track() -> None:
    tracker = DroneTracker(clock=Clock())
    tracker.update(report(0))
    kept, fresh = tracker.update(report(2, 50.0, speed_ms=7.5))
    assert fresh and kept.speed_ms == 7.5
    _, fresh = tracker.update(report(1, 500.0))
    assert not fresh and tracker.out_of_order == 1
    track = tracker.get("remote_id:DRONE1")
    assert track is not None and track.latest.time == T0 + timedelta(seconds=2) and len(track.history) == 2


def test_tracks_go_stale_then_are_forgotten() -> None:
    clock = Clock()
    tracker = DroneTracker(stale_after_s=30.0, forget_after_s=120.0, clock=clock)
    tracker.update(report(0))
    assert [t.stale for t in tracker.tracks()] == [False]
    clock.now = T0 + timedelta(seconds=31)
    assert [t.stale for t in tracker.tracks()] == [True]
    assert tracker.tracks(include_stale=False) == []
    clock.now = T0 + timedelta(seconds=121)
    assert tracker.tracks() == []


def test_near_finds_tracks_close_in_space_and_time() -> None:
    tracker = DroneTracker(clock=Clock())
    tracker.update(report(0, 0.0, track="NEAR"))
    tracker.update(report(0, 1000.0, track="FAR"))
    tracker.update(report(0, 0.0, track="sys1", source=DroneSource.MAVLINK, friendly=True))
    found = tracker.near(HOME, T0 + timedelta(seconds=3), radius_m=300.0, window_s=5.0)
    assert [(t.latest.track_id, round(d)) for t, d in found] == [("NEAR", 0)]
    assert tracker.near(HOME, T0 + timedelta(seconds=6), radius_m=300.0, window_s=5.0) == []
    both = tracker.near(
        HOME,
        T0,
        radius_m=300.0,
        window_s=5.0,
        sources=frozenset({DroneSource.REMOTE_ID, DroneSource.MAVLINK}),
    )
    assert sorted(t.latest.track_id for t, _ in both) == ["NEAR", "sys1"]


def test_remote_id_states_become_reports_with_the_operator() -> None:
    flight = generate_flight(
        [(37.56, 126.80), (37.57, 126.80)],
        speed_ms=10.0,
        alt_m=120.0,
        operator=(37.555, 126.79),
        uas_id="1581F5FKD229400XXXX",
        start=T0,
        operator_id="KOR-OP-0001",
        self_id="survey",
    )
    assembler = RemoteIdAssembler()
    sent_at, packed = flight[0]
    states = assembler.feed_many("udp:127.0.0.1:5000", decode_stream(packed), sent_at)
    made = report_from_remote_id(states[0], receiver_id="rx-1")
    assert made is not None
    assert made.key == "remote_id:1581F5FKD229400XXXX" and not made.friendly
    assert made.lat == pytest.approx(37.56) and made.alt_m == pytest.approx(120.0, abs=0.5)
    assert made.operator is not None and made.operator.lat == pytest.approx(37.555)
    assert made.operator_id == "KOR-OP-0001" and made.self_id == "survey"
    assert made.ua_type == "helicopter_or_multirotor" and made.time == sent_at
    assert made.receiver_id == "rx-1"
