"""Bad OpenDroneID input: a RemoteIdDecodeError naming message, byte and fault; nothing else affected."""

import contextlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hwarang.interop.opendroneid import (
    BasicId,
    LocationVector,
    MessagePack,
    OperatorId,
    RemoteIdDecodeError,
    SelfId,
    decode_message,
    decode_stream,
)
from tests.unit.interop.opendroneid_vectors import (
    BASIC_ID,
    LOCATION,
    OPERATOR_ID,
    PACK,
    SELF_ID,
    SYSTEM,
)


def _error(data: bytes) -> RemoteIdDecodeError:
    with pytest.raises(RemoteIdDecodeError) as info:
        decode_message(data)
    return info.value


def test_truncated_message_names_type_and_length() -> None:
    err = _error(LOCATION[:20])
    assert str(err) == "Location/Vector message (type 0x1) at byte 0: truncated at 20 of 25 bytes"
    assert (err.message_type, err.offset) == (1, 0)


def test_too_long_single_message() -> None:
    assert "26 bytes, expected exactly 25" in str(_error(BASIC_ID + b"\0"))


def test_empty_input() -> None:
    assert "empty" in str(_error(b""))


def test_unknown_message_type() -> None:
    err = _error(bytes([0x72]) + bytes(24))
    assert str(err) == "unknown message (type 0x7) at byte 0: unknown message type 0x7"


def test_pack_count_above_nine() -> None:
    header = bytes([0xF2, 0x19, 0x0C])  # pack v2, size 25, count 12
    err = _error(header + BASIC_ID * 12)
    assert str(err) == "Message Pack message (type 0xF) at byte 0: pack count 12 > 9"


def test_pack_count_zero() -> None:
    assert "pack count 0 < 1" in str(_error(bytes([0xF2, 0x19, 0x00])))


def test_pack_message_size_not_25() -> None:
    header = bytes([0xF2, 0x18, 0x01])  # single message size 24
    assert "pack message size 24 != 25" in str(_error(header + BASIC_ID[:24]))


def test_pack_truncated_and_too_long() -> None:
    assert "truncated at 77 of 78 bytes (3 messages)" in str(_error(PACK[:-1]))
    assert "79 bytes, expected exactly 78 for 3 messages" in str(_error(PACK + b"\0"))


def test_nested_pack_is_rejected_at_its_offset() -> None:
    nested = bytes([0xF2, 0x19, 0x01]) + bytes([0xF2]) + bytes(24)
    err = _error(nested)
    assert err.offset == 3
    assert "nested" in str(err)


def test_latitude_out_of_range() -> None:
    bad = bytearray(LOCATION)
    bad[5:9] = (951_000_000).to_bytes(4, "little", signed=True)  # 95.1 deg
    assert "latitude 95.1 out of range [-90, 90] (byte 5)" in str(_error(bytes(bad)))


def test_longitude_out_of_range_in_system_message() -> None:
    bad = bytearray(SYSTEM)
    bad[6:10] = (-1_850_000_000).to_bytes(4, "little", signed=True)  # -185 deg
    err = _error(bytes(bad))
    assert str(err).startswith("System message (type 0x4) at byte 0: longitude -185 out of range")


def test_location_timestamp_beyond_the_hour() -> None:
    bad = bytearray(LOCATION)
    bad[21:23] = (40_000).to_bytes(2, "little")
    assert "time stamp 4000.0 s after the hour > 3600 s" in str(_error(bytes(bad)))


def test_non_ascii_ids_and_text() -> None:
    bad_basic = bytearray(BASIC_ID)
    bad_basic[4] = 0xC3
    assert "non-ASCII UAS ID: byte 0xC3 at byte 4" in str(_error(bytes(bad_basic)))
    bad_operator = bytearray(OPERATOR_ID)
    bad_operator[2] = 0x07
    assert "non-ASCII operator ID: byte 0x07 at byte 2" in str(_error(bytes(bad_operator)))
    bad_self = bytearray(SELF_ID)
    bad_self[10] = 0xFF
    assert "non-ASCII self-ID description" in str(_error(bytes(bad_self)))


def test_error_is_a_value_error() -> None:
    assert isinstance(_error(b"\x10"), ValueError)


def test_bad_message_in_stream_does_not_stop_the_others() -> None:
    corrupt_location = bytearray(LOCATION)
    corrupt_location[5:9] = (951_000_000).to_bytes(4, "little", signed=True)
    unknown = bytes([0x92]) + bytes(24)
    data = BASIC_ID + bytes(corrupt_location) + SELF_ID + unknown + OPERATOR_ID + LOCATION[:10]
    errors: list[RemoteIdDecodeError] = []
    decoded = decode_stream(data, errors=errors)
    assert [type(m) for m in decoded] == [BasicId, SelfId, OperatorId]
    assert [(e.message_type, e.offset) for e in errors] == [(1, 25), (9, 75), (1, 125)]
    assert "latitude 95.1" in str(errors[0])
    assert "truncated at 10 of 25 bytes" in str(errors[2])


def test_stream_without_error_list_raises_at_first_bad_message() -> None:
    with pytest.raises(RemoteIdDecodeError, match="at byte 25: unknown message type 0x9"):
        decode_stream(BASIC_ID + bytes([0x92]) + bytes(24) + SELF_ID)


def test_bad_message_inside_pack_leaves_the_rest_of_the_pack() -> None:
    bad_inner = bytearray(PACK)
    bad_inner[3 + 25] = 0x82  # second message (the Location) becomes unknown type 0x8
    errors: list[RemoteIdDecodeError] = []
    decoded = decode_stream(bytes(bad_inner) + SELF_ID, errors=errors)
    assert isinstance(decoded[0], MessagePack)
    assert [type(m).__name__ for m in decoded[0].messages] == ["BasicId", "SystemMessage"]
    assert isinstance(decoded[1], SelfId)
    assert [(e.message_type, e.offset) for e in errors] == [(8, 28)]


def test_bad_pack_header_in_stream_still_reads_its_messages() -> None:
    bad_header = bytes([0xF2, 0x19, 0x0C]) + BASIC_ID + LOCATION  # claims 12 messages, carries 2
    errors: list[RemoteIdDecodeError] = []
    decoded = decode_stream(bad_header + OPERATOR_ID, errors=errors)
    assert [type(m) for m in decoded] == [BasicId, LocationVector, OperatorId]
    assert len(errors) == 1
    assert "pack count 12 > 9" in str(errors[0])


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=0, max_size=260))
def test_random_bytes_raise_only_decode_errors(data: bytes) -> None:
    with contextlib.suppress(RemoteIdDecodeError):
        decode_message(data)
    errors: list[RemoteIdDecodeError] = []
    decode_stream(data, errors=errors)
    assert all(isinstance(e, RemoteIdDecodeError) for e in errors)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=0x5), st.binary(min_size=24, max_size=24))
def test_random_payload_of_each_known_type_raises_only_decode_errors(message_type: int, body: bytes) -> None:
    with contextlib.suppress(RemoteIdDecodeError):
        decode_message(bytes([message_type << 4 | 2]) + body)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=255), st.integers(min_value=0, max_value=24))
def test_corrupting_one_byte_loses_at_most_that_message(value: int, position: int) -> None:
    assume(not (position == 0 and value >> 4 == 0xF))  # a pack header reframes the stream by design
    corrupt = bytearray(LOCATION)
    corrupt[position] = value
    errors: list[RemoteIdDecodeError] = []
    decoded = decode_stream(BASIC_ID + bytes(corrupt) + OPERATOR_ID, errors=errors)
    assert decoded[0] == decode_message(BASIC_ID)
    assert decoded[-1] == decode_message(OPERATOR_ID)
    assert len(decoded) + len(errors) == 3
