"""Hand-built OpenDroneID vectors decode to the values read off the layout; the encoder reproduces them."""

import pytest

from hwarang.interop.opendroneid import (
    BasicId,
    LocationVector,
    MessagePack,
    OdidMessage,
    OperatorId,
    SelfId,
    SystemMessage,
    decode_message,
    decode_stream,
    encode_message,
    flatten,
)
from tests.unit.interop.opendroneid_vectors import (
    EXPECTED,
    LOCATION,
    OPERATOR_ID,
    PACK,
    SELF_ID,
    SYSTEM,
)


@pytest.mark.parametrize(("name", "raw", "expected"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_hand_built_vector_decodes_to_expected_values(name: str, raw: bytes, expected: OdidMessage) -> None:
    assert len(raw) == 25, name
    assert decode_message(raw) == expected


@pytest.mark.parametrize(("name", "raw", "expected"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_encoder_reproduces_hand_built_vector(name: str, raw: bytes, expected: OdidMessage) -> None:
    assert encode_message(expected) == raw, name


def test_message_pack_decodes_its_messages_in_order() -> None:
    assert len(PACK) == 3 + 3 * 25
    pack = decode_message(PACK)
    assert isinstance(pack, MessagePack)
    assert pack.protocol_version == 2
    assert pack.messages == (EXPECTED[0][2], EXPECTED[1][2], EXPECTED[7][2])
    assert encode_message(pack) == PACK


def test_stream_of_singles_and_pack_keeps_order() -> None:
    decoded = decode_stream(SELF_ID + PACK + OPERATOR_ID)
    assert [type(m) for m in decoded] == [SelfId, MessagePack, OperatorId]
    assert [type(m) for m in flatten(decoded)] == [SelfId, BasicId, LocationVector, SystemMessage, OperatorId]


def test_accuracy_codes_convert_to_metres() -> None:
    location = decode_message(LOCATION)
    assert isinstance(location, LocationVector)
    assert location.horizontal_accuracy_m == 10.0
    assert location.vertical_accuracy_m == 10.0
    assert location.baro_accuracy_m == 25.0
    assert location.speed_accuracy_ms == 3.0
    assert location.timestamp_accuracy_s == pytest.approx(0.2)


def test_system_classification_text() -> None:
    system = decode_message(SYSTEM)
    assert isinstance(system, SystemMessage)
    assert system.classification == "EU Open C1"
