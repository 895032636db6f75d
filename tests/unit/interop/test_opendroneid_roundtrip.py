"""Encoder/decoder round trips: exact for values on the format's grid, within resolution for any value."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwarang.interop.opendroneid import (
    Authentication,
    BasicId,
    IdType,
    LocationVector,
    MessagePack,
    OperatorId,
    RemoteIdEncodeError,
    SelfId,
    SingleMessage,
    SystemMessage,
    decode_message,
    decode_stream,
    encode_message,
    encode_pack,
)
from hwarang.interop.opendroneid_messages import ODID_EPOCH

EPS = 1e-9
ascii_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
nibble = st.integers(min_value=0, max_value=15)
altitude = st.one_of(st.none(), st.integers(min_value=1, max_value=0xFFFF).map(lambda raw: raw * 0.5 - 1000))
lat_lon = st.tuples(
    st.integers(min_value=-900_000_000, max_value=900_000_000),
    st.integers(min_value=-1_800_000_000, max_value=1_800_000_000),
).filter(lambda pair: pair != (0, 0))
# The reference library truncates lat * 1e7 (a C cast), so a decoded n / 1e7 that lands a hair below
# n * 1e7 encodes as n - 1: like the C library, exact only for the values that survive the cast.
position = st.one_of(
    st.just((None, None)),
    lat_lon.filter(lambda pair: all(int(n / 1e7 * 1e7) == n for n in pair)).map(
        lambda pair: (pair[0] / 1e7, pair[1] / 1e7)
    ),
)
speed = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=255).map(lambda raw: raw * 0.25),
    st.integers(min_value=0, max_value=254).map(lambda raw: raw * 0.75 + 63.75),
)
half_steps = st.integers(min_value=-124, max_value=124).map(lambda raw: raw / 2)
tenths = st.integers(min_value=0, max_value=36000).map(lambda raw: raw / 10)
epoch_time = st.one_of(
    st.none(),
    st.integers(min_value=1, max_value=0xFFFFFFFF).map(lambda s: ODID_EPOCH + timedelta(seconds=s)),
)


@st.composite
def locations(draw: st.DrawFn) -> LocationVector:
    lat, lon = draw(position)
    return LocationVector(
        status=draw(nibble),
        height_type=draw(st.integers(min_value=0, max_value=1)),
        direction_deg=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=359).map(float))),
        speed_ms=draw(speed),
        vert_speed_ms=draw(
            st.one_of(st.none(), st.integers(min_value=-124, max_value=124).map(lambda r: r / 2))
        ),
        lat=lat,
        lon=lon,
        alt_baro_m=draw(altitude),
        alt_geo_m=draw(altitude),
        height_m=draw(altitude),
        horizontal_accuracy=draw(nibble),
        vertical_accuracy=draw(nibble),
        baro_accuracy=draw(nibble),
        speed_accuracy=draw(nibble),
        timestamp_accuracy=draw(nibble),
        timestamp_s=draw(
            st.one_of(st.none(), st.integers(min_value=0, max_value=36000).map(lambda t: t / 10))
        ),
        protocol_version=draw(nibble),
    )


@st.composite
def systems(draw: st.DrawFn) -> SystemMessage:
    lat, lon = draw(position)
    return SystemMessage(
        operator_location_type=draw(st.integers(min_value=0, max_value=3)),
        classification_type=draw(st.integers(min_value=0, max_value=7)),
        operator_lat=lat,
        operator_lon=lon,
        area_count=draw(st.integers(min_value=0, max_value=0xFFFF)),
        area_radius_m=draw(st.integers(min_value=0, max_value=255)) * 10,
        area_ceiling_m=draw(altitude),
        area_floor_m=draw(altitude),
        category_eu=draw(nibble),
        class_eu=draw(nibble),
        operator_alt_m=draw(altitude),
        timestamp=draw(epoch_time),
    )


@st.composite
def auths(draw: st.DrawFn) -> Authentication:
    page = draw(nibble)
    if page:
        return Authentication(
            auth_type=draw(nibble),
            page_number=page,
            last_page_index=None,
            length=None,
            data=draw(st.binary(min_size=23, max_size=23)),
        )
    return Authentication(
        auth_type=draw(nibble),
        last_page_index=draw(nibble),
        length=draw(st.integers(min_value=0, max_value=255)),
        timestamp=draw(epoch_time),
        data=draw(st.binary(min_size=17, max_size=17)),
    )


basic_ids = st.one_of(
    st.builds(BasicId, id_type=st.sampled_from([0, 1, 2]), ua_type=nibble, uas_id=ascii_text),
    st.builds(BasicId, id_type=st.just(3), ua_type=nibble, uas_id=st.uuids().map(str)),
    st.builds(
        BasicId,
        id_type=st.integers(min_value=4, max_value=15),
        ua_type=nibble,
        uas_id=st.binary(max_size=20).map(lambda raw: raw.rstrip(b"\0").hex()),
    ),
)
singles: st.SearchStrategy[SingleMessage] = st.one_of(
    basic_ids,
    locations(),
    auths(),
    systems(),
    st.builds(
        SelfId,
        description_type=st.integers(min_value=0, max_value=255),
        description=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=23),
    ),
    st.builds(OperatorId, operator_id_type=st.integers(min_value=0, max_value=255), operator_id=ascii_text),
)


@settings(max_examples=500, deadline=None)
@given(singles)
def test_single_message_round_trip_is_exact(message: SingleMessage) -> None:
    raw = encode_message(message)
    assert len(raw) == 25
    assert decode_message(raw) == message


@settings(max_examples=150, deadline=None)
@given(st.lists(singles, min_size=1, max_size=9))
def test_pack_round_trip_is_exact(messages: list[SingleMessage]) -> None:
    raw = encode_pack(messages)
    assert len(raw) == 3 + 25 * len(messages)
    assert decode_message(raw) == MessagePack(messages=tuple(messages))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(singles, st.lists(singles, min_size=1, max_size=9).map(tuple)), max_size=6))
def test_stream_round_trip(items: list[SingleMessage | tuple[SingleMessage, ...]]) -> None:
    expected = [MessagePack(messages=i) if isinstance(i, tuple) else i for i in items]
    data = b"".join(encode_message(m) for m in expected)
    assert decode_stream(data) == expected


@settings(max_examples=400, deadline=None)
@given(
    st.floats(min_value=-90, max_value=90),
    st.floats(min_value=-180, max_value=180),
    st.floats(min_value=-999, max_value=31767),
    st.floats(min_value=0, max_value=254.25),
    st.floats(min_value=-62, max_value=62),
    st.floats(min_value=0, max_value=359.4),
    st.floats(min_value=0, max_value=3600),
)
def test_any_value_comes_back_within_resolution(
    lat: float, lon: float, alt: float, speed: float, vspeed: float, direction: float, seconds: float
) -> None:
    sent = LocationVector(
        lat=lat,
        lon=lon,
        alt_geo_m=alt,
        speed_ms=speed,
        vert_speed_ms=vspeed,
        direction_deg=direction,
        timestamp_s=seconds,
    )
    got = decode_message(encode_message(sent))
    assert isinstance(got, LocationVector)
    if int(lat * 1e7) or int(lon * 1e7):  # truncated toward zero, as the reference library does
        assert got.lat == pytest.approx(lat, abs=1e-7 + EPS)
        assert got.lon == pytest.approx(lon, abs=1e-7 + EPS)
    assert got.alt_geo_m == pytest.approx(alt, abs=0.5 + _f32(alt))
    assert got.speed_ms == pytest.approx(speed, abs=(0.125 if speed <= 63.75 else 0.375) + _f32(speed))
    assert got.vert_speed_ms == pytest.approx(vspeed, abs=0.5 + _f32(vspeed))
    assert got.direction_deg == pytest.approx(direction, abs=0.5 + _f32(direction))
    assert got.timestamp_s == pytest.approx(seconds, abs=0.05 + _f32(seconds))


def _f32(value: float) -> float:
    """Half a resolution step plus this: the encoder rounds in single precision, as the reference
    library does, so a value a hair under a half step (102.5499949 s) may round up (to 102.6 s)."""
    return EPS + abs(value) * 2.0**-22


def test_speeds_above_the_maximum_are_clamped_as_the_standard_says() -> None:
    got = decode_message(encode_message(LocationVector(speed_ms=300.0, vert_speed_ms=-80.0)))
    assert isinstance(got, LocationVector)
    assert (got.speed_ms, got.vert_speed_ms) == (254.25, -62.0)


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        (LocationVector(lat=91.0, lon=0.5), "lat 91.0 outside -90..90"),
        (LocationVector(lat=1.0, lon=None), "lat and lon must both be given"),
        (LocationVector(alt_geo_m=40000.0), "alt_geo_m 40000.0 outside"),
        (LocationVector(direction_deg=360.0), "direction_deg 360.0 outside"),
        (LocationVector(speed_ms=-1.0), "speed_ms -1.0 is negative"),
        (LocationVector(timestamp_s=3601.0), "timestamp_s 3601.0 outside"),
        (LocationVector(status=16), "status 16 outside 0..15"),
        (BasicId(uas_id="드론"), "uas_id '드론' is not printable ASCII"),
        (BasicId(uas_id="X" * 21), "uas_id is 21 bytes, at most 20 fit"),
        (BasicId(id_type=IdType.UTM_ASSIGNED_UUID, uas_id="not-a-uuid"), "does not fit id_type 3"),
        (SystemMessage(area_radius_m=3000), "area_radius_m 3000 outside 0..2550"),
        (SystemMessage(timestamp=datetime(2026, 1, 1)), "timestamp must be timezone-aware"),
        (SystemMessage(timestamp=datetime(2018, 1, 1, tzinfo=UTC)), "timestamp (seconds since 2019-01-01)"),
        (Authentication(data=b"x" * 18), "data is 18 bytes, at most 17 fit"),
    ],
)
def test_encoder_rejects_values_the_format_cannot_hold(message: SingleMessage, fragment: str) -> None:
    with pytest.raises(RemoteIdEncodeError) as info:
        encode_message(message)
    assert fragment in str(info.value)


def test_pack_limits() -> None:
    with pytest.raises(RemoteIdEncodeError, match=r"1\.\.9 messages, got 10"):
        encode_pack([BasicId()] * 10)
    with pytest.raises(RemoteIdEncodeError, match=r"1\.\.9 messages, got 0"):
        encode_pack([])
