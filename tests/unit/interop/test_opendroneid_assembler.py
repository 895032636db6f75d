"""RemoteIdAssembler merges a sender's messages into states; the synthetic flight decodes to its route."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from hwarang.interop.opendroneid import (
    BasicId,
    IdType,
    LocationVector,
    MessagePack,
    OperatorId,
    SelfId,
    SystemMessage,
    UaType,
    decode_message,
)
from hwarang.interop.remote_id_flight import generate_flight
from hwarang.interop.remote_id_state import RemoteIdAssembler, resolve_hour_timestamp

T0 = datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC)
LOC = LocationVector(lat=37.5, lon=127.0, alt_geo_m=120.0, speed_ms=10.0, timestamp_s=5.0)
SYSTEM = SystemMessage(
    operator_lat=37.49,
    operator_lon=126.99,
    operator_alt_m=40.0,
    classification_type=1,
    category_eu=2,
    class_eu=0,
)


def test_location_of_an_unknown_sender_gives_a_state_without_id() -> None:
    states = RemoteIdAssembler().feed("aa:bb", LOC, T0)
    assert len(states) == 1
    state = states[0]
    assert (state.sender, state.uas_id, state.lat, state.lon, state.alt_geo_m) == (
        "aa:bb",
        None,
        37.5,
        127.0,
        120.0,
    )
    assert state.timestamp == datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC)
    assert state.timestamp_known
    assert state.operator_lat is None


def test_static_messages_are_remembered_and_merged_into_later_locations() -> None:
    assembler = RemoteIdAssembler()
    for message in (
        BasicId(uas_id="SN-1", ua_type=UaType.HELICOPTER_OR_MULTIROTOR),
        SYSTEM,
        SelfId(description="survey"),
        OperatorId(operator_id="KOR-1"),
    ):
        assert assembler.feed("s1", message, T0) == []
    state = assembler.feed("s1", LOC, T0 + timedelta(seconds=1))[0]
    assert state.uas_id == "SN-1"
    assert state.id_type == IdType.SERIAL_NUMBER
    assert state.ua_type == UaType.HELICOPTER_OR_MULTIROTOR
    assert (state.operator_lat, state.operator_lon, state.operator_alt_m) == (37.49, 126.99, 40.0)
    assert (state.self_id, state.operator_id, state.classification) == ("survey", "KOR-1", "EU Specific")
    assert state.received_at == T0 + timedelta(seconds=1)
    other = assembler.feed("s2", LOC, T0)[0]
    assert other.uas_id is None  # senders never mix


def test_pack_applies_static_messages_before_its_location() -> None:
    pack = MessagePack(messages=(LOC, BasicId(uas_id="SN-2"), SYSTEM))
    [state] = RemoteIdAssembler().feed("s", pack, T0)
    assert state.uas_id == "SN-2"
    assert state.operator_lat == 37.49


def test_serial_number_is_preferred_over_a_second_basic_id() -> None:
    assembler = RemoteIdAssembler()
    assembler.feed("s", BasicId(id_type=IdType.CAA_REGISTRATION_ID, uas_id="KR-REG-9"), T0)
    assembler.feed("s", BasicId(id_type=IdType.SERIAL_NUMBER, uas_id="SN-3"), T0)
    assert assembler.feed("s", LOC, T0)[0].uas_id == "SN-3"


def test_least_recently_heard_senders_are_dropped() -> None:
    assembler = RemoteIdAssembler(max_senders=2)
    assembler.feed("a", BasicId(uas_id="A"), T0)
    assembler.feed("b", BasicId(uas_id="B"), T0)
    assembler.feed("c", BasicId(uas_id="C"), T0)
    assert len(assembler) == 2
    assert assembler.feed("a", LOC, T0)[0].uas_id is None
    assert assembler.feed("c", LOC, T0)[0].uas_id == "C"


def test_unknown_time_stamp_falls_back_to_receive_time() -> None:
    [state] = RemoteIdAssembler().feed("s", LocationVector(lat=1.0, lon=1.0), T0)
    assert state.timestamp == T0
    assert not state.timestamp_known


def _at(hour: int, minute: int, second: float) -> datetime:
    return datetime(2026, 1, 1, hour, minute, tzinfo=UTC) + timedelta(seconds=second)


@pytest.mark.parametrize(
    ("seconds", "received", "expected"),
    [
        (5.0, datetime(2026, 1, 1, 10, 0, 6, tzinfo=UTC), datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)),
        (
            3599.5,
            datetime(2026, 1, 1, 10, 0, 1, tzinfo=UTC),
            datetime(2026, 1, 1, 9, 59, 59, 500000, tzinfo=UTC),
        ),
        (
            0.5,
            datetime(2026, 1, 1, 9, 59, 59, tzinfo=UTC),
            datetime(2026, 1, 1, 10, 0, 0, 500000, tzinfo=UTC),
        ),
    ],
)
def test_hour_time_stamp_resolves_across_the_hour_boundary(
    seconds: float, received: datetime, expected: datetime
) -> None:
    assert resolve_hour_timestamp(seconds, received) == expected


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = math.radians(b[0] - a[0]) * 6_371_000
    east = math.radians(b[1] - a[1]) * 6_371_000 * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


def test_generated_flight_follows_its_route_at_its_speed() -> None:
    route = [(37.5000, 127.0000), (37.5090, 127.0000), (37.5090, 127.0110)]  # ~1 km north, ~970 m east
    start = datetime(2026, 11, 24, 9, 59, 30, tzinfo=UTC)
    flight = generate_flight(
        route,
        speed_ms=20.0,
        alt_m=120.0,
        operator=(37.4990, 126.9990),
        uas_id="KR-SIM-0001",
        rate_hz=2.0,
        start=start,
        operator_id="KOR-OP-7",
    )
    assembler = RemoteIdAssembler()
    states = [s for at, raw in flight for s in assembler.feed("sim", decode_message(raw), at)]
    assert len(states) == len(flight)
    assert [at for at, _ in flight] == [start + timedelta(seconds=i / 2) for i in range(len(flight))]
    assert (states[0].lat, states[0].lon) == route[0]
    assert states[-1].lat == pytest.approx(route[-1][0], abs=1e-7)
    assert states[-1].lon == pytest.approx(route[-1][1], abs=1e-7)
    first_leg = states[1:5]
    assert all(s.direction_deg == 0.0 for s in first_leg)
    assert states[-2].direction_deg == 90.0
    assert _distance_m((states[1].lat or 0, states[1].lon or 0), route[0]) == pytest.approx(10.0, abs=0.05)
    assert all(s.uas_id == "KR-SIM-0001" and s.operator_id == "KOR-OP-7" for s in states)
    assert all((s.operator_lat, s.operator_lon) == (37.499, 126.999) for s in states)
    assert all(s.alt_geo_m == 120.0 and s.height_m == 120.0 for s in states)
    assert all(s.timestamp == at for s, (at, _) in zip(states, flight, strict=True))  # across 10:00
    total = _distance_m(route[0], route[1]) + _distance_m(route[1], route[2])
    assert len(flight) - 1 == math.ceil(total / 20.0 * 2.0)


def _fly(waypoints: list[tuple[float, float]], start: datetime) -> None:
    generate_flight(waypoints, speed_ms=10.0, alt_m=50.0, operator=(37.0, 127.0), uas_id="X", start=start)


def test_generated_flight_rejects_bad_input() -> None:
    aware = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least 2 waypoints"):
        _fly([(37.0, 127.0)], aware)
    with pytest.raises(ValueError, match=r"waypoint 1 \(95.0, 127.0\) is not a valid"):
        _fly([(37.0, 127.0), (95.0, 127.0)], aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        _fly([(37.0, 127.0), (37.1, 127.0)], datetime(2026, 1, 1))
