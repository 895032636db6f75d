"""Encode OpenDroneID messages to their 25-byte broadcast form (the inverse of the decoder).

Values are quantised exactly as the reference C library (opendroneid-core-c) does, in single
precision like its ``float`` fields: direction, horizontal speed and the time stamp are rounded half
away from zero (``roundf``); vertical speed, altitudes, latitude/longitude and the area radius are
truncated toward zero (C's integer casts), so an area radius of 75 m is sent as 70 m and a ceiling
of 176.9 m as 176.5 m. Speeds beyond the format's maximum are clamped as the standard says; anything
else out of range raises :class:`RemoteIdEncodeError` naming the field.
"""

import math
import struct
import uuid
from collections.abc import Iterable
from datetime import datetime

import numpy as np

from hwarang.interop.opendroneid_messages import (
    MESSAGE_SIZE,
    ODID_EPOCH,
    PACK_MAX_MESSAGES,
    PROTOCOL_VERSION,
    Authentication,
    BasicId,
    IdType,
    LocationVector,
    MessagePack,
    MessageType,
    OdidMessage,
    OperatorId,
    RemoteIdEncodeError,
    SelfId,
    SingleMessage,
    SystemMessage,
)

_LOCATION = struct.Struct("<BBBBbiiHHHBBHBB")
_AUTH_PAGE0 = struct.Struct("<BBBBI17s")
_AUTH_PAGE_N = struct.Struct("<BB23s")
_SELF_ID = struct.Struct("<BB23s")
_SYSTEM = struct.Struct("<BBiiHBHHBHIB")
_ID_MESSAGE = struct.Struct("<BB20s3s")
_SPEED_LOW_MAX = 255 * 0.25
_SPEED_MAX = 254.25
_VSPEED_MAX = 62.0
_MAX_ALT = 31767.5


def encode_message(message: OdidMessage) -> bytes:
    """25 bytes for a single message, 3 + 25 * n bytes for a :class:`MessagePack`."""
    if isinstance(message, MessagePack):
        return encode_pack(message.messages, protocol_version=message.protocol_version)
    header = _header(_TYPES[type(message)], message.protocol_version)
    if isinstance(message, BasicId):
        types = (_nibble(message.id_type, "id_type") << 4) | _nibble(message.ua_type, "ua_type")
        return _ID_MESSAGE.pack(header, types, _encode_uas_id(message), b"\0\0\0")
    if isinstance(message, LocationVector):
        return _encode_location(header, message)
    if isinstance(message, Authentication):
        return _encode_auth(header, message)
    if isinstance(message, SelfId):
        desc = _encode_text(message.description, 23, "description")
        return _SELF_ID.pack(header, _byte(message.description_type, "description_type"), desc)
    if isinstance(message, SystemMessage):
        return _encode_system(header, message)
    operator_id = _encode_text(message.operator_id, 20, "operator_id")
    return _ID_MESSAGE.pack(
        header, _byte(message.operator_id_type, "operator_id_type"), operator_id, b"\0\0\0"
    )


def encode_pack(messages: Iterable[SingleMessage], *, protocol_version: int = PROTOCOL_VERSION) -> bytes:
    """A Message Pack of 1..9 single messages."""
    items = list(messages)
    if not 1 <= len(items) <= PACK_MAX_MESSAGES:
        raise RemoteIdEncodeError(f"a message pack holds 1..{PACK_MAX_MESSAGES} messages, got {len(items)}")
    if any(isinstance(item, MessagePack) for item in items):
        raise RemoteIdEncodeError("a message pack cannot contain another message pack")
    header = bytes([_header(MessageType.PACK, protocol_version), MESSAGE_SIZE, len(items)])
    return header + b"".join(encode_message(item) for item in items)


_TYPES: dict[type, MessageType] = {
    BasicId: MessageType.BASIC_ID,
    LocationVector: MessageType.LOCATION,
    Authentication: MessageType.AUTH,
    SelfId: MessageType.SELF_ID,
    SystemMessage: MessageType.SYSTEM,
    OperatorId: MessageType.OPERATOR_ID,
}


def _encode_location(header: int, msg: LocationVector) -> bytes:
    direction, east_west = _encode_direction(msg.direction_deg)
    speed, multiplier = _encode_speed(msg.speed_ms)
    lat, lon = _encode_position(msg.lat, msg.lon, "lat", "lon")
    flags = (
        (_nibble(msg.status, "status") << 4)
        | (_range_int(msg.height_type, 0, 1, "height_type") << 2)
        | (east_west << 1)
        | multiplier
    )
    if msg.timestamp_s is None:
        tenths = 0xFFFF
    elif 0.0 <= msg.timestamp_s <= 3600.0:
        tenths = min(_roundf(_f32(msg.timestamp_s) * _f32(10.0)), 36000)
    else:
        raise RemoteIdEncodeError(f"timestamp_s {msg.timestamp_s} outside 0..3600 s after the hour")
    return _LOCATION.pack(
        header,
        flags,
        direction,
        speed,
        _encode_vertical_speed(msg.vert_speed_ms),
        lat,
        lon,
        _encode_alt(msg.alt_baro_m, "alt_baro_m"),
        _encode_alt(msg.alt_geo_m, "alt_geo_m"),
        _encode_alt(msg.height_m, "height_m"),
        (_nibble(msg.vertical_accuracy, "vertical_accuracy") << 4)
        | _nibble(msg.horizontal_accuracy, "horizontal_accuracy"),
        (_nibble(msg.baro_accuracy, "baro_accuracy") << 4) | _nibble(msg.speed_accuracy, "speed_accuracy"),
        tenths,
        _nibble(msg.timestamp_accuracy, "timestamp_accuracy"),
        0,
    )


def _encode_auth(header: int, msg: Authentication) -> bytes:
    types = (_nibble(msg.auth_type, "auth_type") << 4) | _nibble(msg.page_number, "page_number")
    if msg.page_number:
        return _AUTH_PAGE_N.pack(header, types, _padded(msg.data, 23, "data"))
    return _AUTH_PAGE0.pack(
        header,
        types,
        _nibble(msg.last_page_index or 0, "last_page_index"),
        _byte(msg.length or 0, "length"),
        _encode_epoch(msg.timestamp, "timestamp"),
        _padded(msg.data, 17, "data"),
    )


def _encode_system(header: int, msg: SystemMessage) -> bytes:
    lat, lon = _encode_position(msg.operator_lat, msg.operator_lon, "operator_lat", "operator_lon")
    if not 0 <= msg.area_radius_m <= 2550:
        raise RemoteIdEncodeError(f"area_radius_m {msg.area_radius_m} outside 0..2550 m")
    flags = (_range_int(msg.classification_type, 0, 7, "classification_type") << 2) | _range_int(
        msg.operator_location_type, 0, 3, "operator_location_type"
    )
    return _SYSTEM.pack(
        header,
        flags,
        lat,
        lon,
        _range_int(msg.area_count, 0, 0xFFFF, "area_count"),
        int(msg.area_radius_m) // 10,  # the C library's uint16 metres, then integer division
        _encode_alt(msg.area_ceiling_m, "area_ceiling_m"),
        _encode_alt(msg.area_floor_m, "area_floor_m"),
        (_nibble(msg.category_eu, "category_eu") << 4) | _nibble(msg.class_eu, "class_eu"),
        _encode_alt(msg.operator_alt_m, "operator_alt_m"),
        _encode_epoch(msg.timestamp, "timestamp"),
        0,
    )


def _encode_uas_id(msg: BasicId) -> bytes:
    if msg.id_type in (IdType.NONE, IdType.SERIAL_NUMBER, IdType.CAA_REGISTRATION_ID):
        return _encode_text(msg.uas_id, 20, "uas_id")
    try:
        if msg.id_type == IdType.UTM_ASSIGNED_UUID:
            raw = uuid.UUID(msg.uas_id).bytes if msg.uas_id else b""
        else:
            raw = bytes.fromhex(msg.uas_id)
    except ValueError as exc:
        raise RemoteIdEncodeError(f"uas_id {msg.uas_id!r} does not fit id_type {msg.id_type}: {exc}") from exc
    return _padded(raw, 20, "uas_id")


def _encode_direction(direction: float | None) -> tuple[int, int]:
    if direction is None:
        return 181, 1
    if not 0.0 <= direction < 360.0:
        raise RemoteIdEncodeError(f"direction_deg {direction} outside 0..360")
    whole = _roundf(_f32(direction)) % 360
    return (whole - 180, 1) if whole >= 180 else (whole, 0)


def _encode_speed(speed: float | None) -> tuple[int, int]:
    if speed is None:
        return 255, 1
    if speed < 0:
        raise RemoteIdEncodeError(f"speed_ms {speed} is negative")
    value = _f32(min(speed, _SPEED_MAX))
    if value <= _SPEED_LOW_MAX:
        return _roundf(value / _f32(0.25)), 0
    return min(_roundf((value - _f32(_SPEED_LOW_MAX)) / _f32(0.75)), 254), 1


def _encode_vertical_speed(speed: float | None) -> int:
    if speed is None:
        return 126
    return int(_f32(max(-_VSPEED_MAX, min(_VSPEED_MAX, speed))) / _f32(0.5))


def _encode_position(lat: float | None, lon: float | None, lat_name: str, lon_name: str) -> tuple[int, int]:
    if lat is None and lon is None:
        return 0, 0
    if lat is None or lon is None:
        raise RemoteIdEncodeError(f"{lat_name} and {lon_name} must both be given or both be None")
    if not -90.0 <= lat <= 90.0:
        raise RemoteIdEncodeError(f"{lat_name} {lat} outside -90..90")
    if not -180.0 <= lon <= 180.0:
        raise RemoteIdEncodeError(f"{lon_name} {lon} outside -180..180")
    return int(lat * 1e7), int(lon * 1e7)  # double precision, truncated like the C library


def _encode_alt(alt: float | None, name: str) -> int:
    if alt is None:
        return 0
    if not -1000.0 <= alt <= _MAX_ALT:
        raise RemoteIdEncodeError(f"{name} {alt} outside -1000..{_MAX_ALT} m")
    return int((_f32(alt) + _f32(1000.0)) / _f32(0.5))


def _f32(value: float) -> np.float32:
    """``value`` as the C library's single-precision ``float``."""
    return np.float32(value)


def _roundf(value: np.float32) -> int:
    """C's ``roundf``: to the nearest integer, halves away from zero."""
    return int(math.copysign(math.floor(abs(float(value)) + 0.5), float(value)))


def _encode_epoch(when: datetime | None, name: str) -> int:
    if when is None:
        return 0
    if when.tzinfo is None:
        raise RemoteIdEncodeError(f"{name} must be timezone-aware")
    seconds = int((when - ODID_EPOCH).total_seconds())  # whole seconds, truncated
    return _range_int(seconds, 0, 0xFFFFFFFF, f"{name} (seconds since 2019-01-01)")


def _encode_text(text: str, size: int, name: str) -> bytes:
    if not all(0x20 <= ord(char) <= 0x7E for char in text):
        raise RemoteIdEncodeError(f"{name} {text!r} is not printable ASCII")
    return _padded(text.encode("ascii"), size, name)


def _padded(raw: bytes, size: int, name: str) -> bytes:
    if len(raw) > size:
        raise RemoteIdEncodeError(f"{name} is {len(raw)} bytes, at most {size} fit")
    return raw.ljust(size, b"\0")


def _header(message_type: int, protocol_version: int) -> int:
    return (message_type << 4) | _nibble(protocol_version, "protocol_version")


def _nibble(value: int, name: str) -> int:
    return _range_int(value, 0, 15, name)


def _byte(value: int, name: str) -> int:
    return _range_int(value, 0, 255, name)


def _range_int(value: int, low: int, high: int, name: str) -> int:
    if not low <= value <= high:
        raise RemoteIdEncodeError(f"{name} {value} outside {low}..{high}")
    return int(value)
