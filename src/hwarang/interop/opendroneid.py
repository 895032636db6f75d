"""Decode and encode OpenDroneID (ASTM F3411 / ASD-STAN prEN 4709-002) broadcast messages.

Every message is 25 bytes, little-endian; the first byte is the message type (high nibble) and the
protocol version (low nibble). A Message Pack (type 0xF) is a 3-byte header (type/version, single
message size = 25, message count 1..9) followed by that many messages. The layouts follow the encoded
structs of opendroneid-core-c (``opendroneid.h``); scaling:

- latitude/longitude: int32 * 1e-7 degrees; 0/0 = unknown
- altitudes and height: uint16 * 0.5 - 1000 m; 0 (-1000 m) = unknown
- horizontal speed: uint8 * 0.25 m/s, or with the multiplier flag * 0.75 + 63.75 m/s; 255 flagged = unknown
- vertical speed: int8 * 0.5 m/s; 63 m/s = unknown
- direction: uint8 0..179 plus 180 when the east/west segment bit is set; >= 360 (361) = unknown
- Location time stamp: uint16 tenths of a second after the full UTC hour; 0xFFFF = unknown
- System/Authentication time stamp: uint32 seconds since 2019-01-01 00:00:00 UTC; 0 = unknown
"""

import struct
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from hwarang.interop.opendroneid_encode import encode_message, encode_pack
from hwarang.interop.opendroneid_messages import (
    MESSAGE_SIZE,
    MESSAGE_TYPE_NAMES,
    ODID_EPOCH,
    PACK_MAX_MESSAGES,
    Authentication,
    AuthType,
    BasicId,
    ClassificationType,
    HeightReference,
    IdType,
    LocationVector,
    MessagePack,
    MessageType,
    OdidMessage,
    OperationalStatus,
    OperatorId,
    OperatorLocationType,
    RemoteIdDecodeError,
    RemoteIdEncodeError,
    SelfId,
    SingleMessage,
    SystemMessage,
    UaType,
)

__all__ = [
    "MESSAGE_SIZE",
    "AuthType",
    "Authentication",
    "BasicId",
    "ClassificationType",
    "HeightReference",
    "IdType",
    "LocationVector",
    "MessagePack",
    "MessageType",
    "OdidMessage",
    "OperationalStatus",
    "OperatorId",
    "OperatorLocationType",
    "RemoteIdDecodeError",
    "RemoteIdEncodeError",
    "SelfId",
    "SingleMessage",
    "SystemMessage",
    "UaType",
    "decode_message",
    "decode_stream",
    "encode_message",
    "encode_pack",
    "flatten",
]

_LOCATION = struct.Struct("<BBBBbiiHHHBBHBB")
_AUTH_PAGE0 = struct.Struct("<BBBBI17s")
_AUTH_PAGE_N = struct.Struct("<BB23s")
_SELF_ID = struct.Struct("<BB23s")
_SYSTEM = struct.Struct("<BBiiHBHHBHIB")
_ID_MESSAGE = struct.Struct("<BB20s3s")
_PACK_HEADER = 3
_LATLON_DIVISOR = 1e7
_SPEED_LOW_MAX = 255 * 0.25
_MAX_ALT = 31767.5
_MAX_TENTHS = 36000
_UNKNOWN_TENTHS = 0xFFFF
_ASCII_IDS = (IdType.NONE, IdType.SERIAL_NUMBER, IdType.CAA_REGISTRATION_ID)


def decode_message(data: bytes) -> OdidMessage:
    """Decode exactly one 25-byte message, or one Message Pack of its exact length."""
    if not data:
        raise RemoteIdDecodeError("empty, expected 25 bytes")
    data = bytes(data)
    message_type = data[0] >> 4
    _check_known_type(message_type, 0)
    if message_type == MessageType.PACK:
        pack, _ = _decode_pack(data, 0, None, exact=True)
        return pack
    if len(data) < MESSAGE_SIZE:
        raise RemoteIdDecodeError(
            f"truncated at {len(data)} of {MESSAGE_SIZE} bytes", message_type=message_type
        )
    if len(data) > MESSAGE_SIZE:
        raise RemoteIdDecodeError(
            f"{len(data)} bytes, expected exactly {MESSAGE_SIZE} (decode_stream reads concatenations)",
            message_type=message_type,
        )
    return _decode_single(data, 0)


def decode_stream(data: bytes, errors: list[RemoteIdDecodeError] | None = None) -> list[OdidMessage]:
    """Decode a concatenation of messages and packs, in order.

    Without ``errors`` the first bad message raises. With a list, each bad message is appended to it
    and skipped (25 bytes; 3 header bytes of a pack whose header is bad, so its messages are still
    read), a bad message inside a pack is left out of that pack, and a truncated tail ends decoding.
    """
    out: list[OdidMessage] = []
    data = bytes(data)
    pos = 0
    while pos < len(data):
        message_type = data[pos] >> 4
        try:
            if message_type == MessageType.PACK:
                pack, pos = _decode_pack(data, pos, errors, exact=False)
                out.append(pack)
                continue
            _check_known_type(message_type, pos)
            if len(data) - pos < MESSAGE_SIZE:
                raise RemoteIdDecodeError(
                    f"truncated at {len(data) - pos} of {MESSAGE_SIZE} bytes",
                    offset=pos,
                    message_type=message_type,
                )
            out.append(_decode_single(data[pos : pos + MESSAGE_SIZE], pos))
            pos += MESSAGE_SIZE
        except RemoteIdDecodeError as exc:
            if errors is None:
                raise
            errors.append(exc)
            if len(data) - pos < MESSAGE_SIZE and message_type != MessageType.PACK:
                break
            pos += _PACK_HEADER if message_type == MessageType.PACK else MESSAGE_SIZE
    return out


def flatten(messages: Iterable[OdidMessage]) -> list[SingleMessage]:
    """The single messages of ``messages`` with every pack expanded in place."""
    out: list[SingleMessage] = []
    for message in messages:
        if isinstance(message, MessagePack):
            out.extend(message.messages)
        else:
            out.append(message)
    return out


def _check_known_type(message_type: int, offset: int) -> None:
    if message_type not in MESSAGE_TYPE_NAMES:
        raise RemoteIdDecodeError(
            f"unknown message type 0x{message_type:X}", offset=offset, message_type=message_type
        )


def _decode_pack(
    data: bytes, offset: int, errors: list[RemoteIdDecodeError] | None, *, exact: bool
) -> tuple[MessagePack, int]:
    kind = MessageType.PACK
    available = len(data) - offset
    if available < _PACK_HEADER:
        raise RemoteIdDecodeError(
            f"truncated at {available} of {_PACK_HEADER} header bytes", offset=offset, message_type=kind
        )
    size, count = data[offset + 1], data[offset + 2]
    if size != MESSAGE_SIZE:
        raise RemoteIdDecodeError(
            f"pack message size {size} != {MESSAGE_SIZE}", offset=offset, message_type=kind
        )
    if not 1 <= count <= PACK_MAX_MESSAGES:
        relation = f"> {PACK_MAX_MESSAGES}" if count else "< 1"
        raise RemoteIdDecodeError(f"pack count {count} {relation}", offset=offset, message_type=kind)
    total = _PACK_HEADER + count * MESSAGE_SIZE
    if available < total:
        raise RemoteIdDecodeError(
            f"truncated at {available} of {total} bytes ({count} messages)", offset=offset, message_type=kind
        )
    if exact and available > total:
        raise RemoteIdDecodeError(
            f"{available} bytes, expected exactly {total} for {count} messages",
            offset=offset,
            message_type=kind,
        )
    messages: list[SingleMessage] = []
    for index in range(count):
        start = offset + _PACK_HEADER + index * MESSAGE_SIZE
        inner_type = data[start] >> 4
        try:
            if inner_type == MessageType.PACK:
                raise RemoteIdDecodeError("message pack nested inside a message pack", offset=start)
            _check_known_type(inner_type, start)
            messages.append(_decode_single(data[start : start + MESSAGE_SIZE], start))
        except RemoteIdDecodeError as exc:
            if errors is None:
                raise
            errors.append(exc)
    return MessagePack(messages=tuple(messages), protocol_version=data[offset] & 0x0F), offset + total


def _decode_single(raw: bytes, offset: int) -> SingleMessage:
    message_type = raw[0] >> 4
    if message_type == MessageType.BASIC_ID:
        return _decode_basic_id(raw, offset)
    if message_type == MessageType.LOCATION:
        return _decode_location(raw, offset)
    if message_type == MessageType.AUTH:
        return _decode_auth(raw)
    if message_type == MessageType.SELF_ID:
        _, desc_type, desc = _SELF_ID.unpack(raw)
        text = _decode_text(desc, "self-ID description", offset, message_type)
        return SelfId(description_type=desc_type, description=text, protocol_version=raw[0] & 0x0F)
    if message_type == MessageType.SYSTEM:
        return _decode_system(raw, offset)
    _, id_type, operator_id, _ = _ID_MESSAGE.unpack(raw)
    text = _decode_text(operator_id, "operator ID", offset, message_type)
    return OperatorId(operator_id_type=id_type, operator_id=text, protocol_version=raw[0] & 0x0F)


def _decode_basic_id(raw: bytes, offset: int) -> BasicId:
    _, types, uas_id, _ = _ID_MESSAGE.unpack(raw)
    id_type, ua_type = types >> 4, types & 0x0F
    if id_type in _ASCII_IDS:
        text = _decode_text(uas_id, "UAS ID", offset, MessageType.BASIC_ID)
    elif id_type == IdType.UTM_ASSIGNED_UUID:
        text = str(uuid.UUID(bytes=uas_id[:16])) if any(uas_id) else ""
    else:
        text = uas_id.rstrip(b"\0").hex()
    return BasicId(id_type=id_type, ua_type=ua_type, uas_id=text, protocol_version=raw[0] & 0x0F)


def _decode_location(raw: bytes, offset: int) -> LocationVector:
    (hdr, flags, direction, speed, vspeed, lat, lon, baro, geo, height, vh_acc, bs_acc, tenths, ts_acc, _) = (
        _LOCATION.unpack(raw)
    )
    direction_deg = direction + (180 if flags & 0x02 else 0)
    speed_ms = _decode_speed(speed, multiplied=bool(flags & 0x01))
    if tenths != _UNKNOWN_TENTHS and tenths > _MAX_TENTHS:
        raise RemoteIdDecodeError(
            f"time stamp {tenths / 10:.1f} s after the hour > 3600 s (byte {offset + 21})",
            offset=offset,
            message_type=MessageType.LOCATION,
        )
    lat_deg, lon_deg = _decode_position(lat, lon, offset, offset + 5, MessageType.LOCATION)
    return LocationVector(
        status=flags >> 4,
        height_type=(flags >> 2) & 0x01,
        direction_deg=None if direction_deg >= 360 else float(direction_deg),
        speed_ms=speed_ms,
        vert_speed_ms=None if vspeed == 126 else vspeed * 0.5,
        lat=lat_deg,
        lon=lon_deg,
        alt_baro_m=_decode_alt(baro),
        alt_geo_m=_decode_alt(geo),
        height_m=_decode_alt(height),
        horizontal_accuracy=vh_acc & 0x0F,
        vertical_accuracy=vh_acc >> 4,
        baro_accuracy=bs_acc >> 4,
        speed_accuracy=bs_acc & 0x0F,
        timestamp_accuracy=ts_acc & 0x0F,
        timestamp_s=None if tenths == _UNKNOWN_TENTHS else tenths / 10,
        protocol_version=hdr & 0x0F,
    )


def _decode_auth(raw: bytes) -> Authentication:
    auth_type, page = raw[1] >> 4, raw[1] & 0x0F
    if page:
        _, _, data = _AUTH_PAGE_N.unpack(raw)
        return Authentication(
            auth_type=auth_type,
            page_number=page,
            last_page_index=None,
            length=None,
            data=data,
            protocol_version=raw[0] & 0x0F,
        )
    _, _, last_page, length, seconds, data = _AUTH_PAGE0.unpack(raw)
    return Authentication(
        auth_type=auth_type,
        page_number=0,
        last_page_index=last_page,
        length=length,
        timestamp=_decode_epoch(seconds),
        data=data,
        protocol_version=raw[0] & 0x0F,
    )


def _decode_system(raw: bytes, offset: int) -> SystemMessage:
    (hdr, flags, lat, lon, area_count, radius, ceiling, floor, category_class, op_alt, seconds, _) = (
        _SYSTEM.unpack(raw)
    )
    lat_deg, lon_deg = _decode_position(lat, lon, offset, offset + 2, MessageType.SYSTEM)
    return SystemMessage(
        operator_location_type=flags & 0x03,
        classification_type=(flags >> 2) & 0x07,
        operator_lat=lat_deg,
        operator_lon=lon_deg,
        area_count=area_count,
        area_radius_m=radius * 10,
        area_ceiling_m=_decode_alt(ceiling),
        area_floor_m=_decode_alt(floor),
        category_eu=category_class >> 4,
        class_eu=category_class & 0x0F,
        operator_alt_m=_decode_alt(op_alt),
        timestamp=_decode_epoch(seconds),
        protocol_version=hdr & 0x0F,
    )


def _decode_position(
    lat: int, lon: int, offset: int, field_offset: int, message_type: int
) -> tuple[float | None, float | None]:
    if lat == 0 and lon == 0:
        return None, None
    lat_deg, lon_deg = lat / _LATLON_DIVISOR, lon / _LATLON_DIVISOR
    if not -90.0 <= lat_deg <= 90.0:
        raise RemoteIdDecodeError(
            f"latitude {lat_deg:.7g} out of range [-90, 90] (byte {field_offset})",
            offset=offset,
            message_type=message_type,
        )
    if not -180.0 <= lon_deg <= 180.0:
        raise RemoteIdDecodeError(
            f"longitude {lon_deg:.7g} out of range [-180, 180] (byte {field_offset + 4})",
            offset=offset,
            message_type=message_type,
        )
    return lat_deg, lon_deg


def _decode_speed(raw: int, *, multiplied: bool) -> float | None:
    if not multiplied:
        return raw * 0.25
    return None if raw == 255 else raw * 0.75 + _SPEED_LOW_MAX


def _decode_alt(raw: int) -> float | None:
    return None if raw == 0 else raw * 0.5 - 1000.0


def _decode_epoch(seconds: int) -> datetime | None:
    return None if seconds == 0 else ODID_EPOCH + timedelta(seconds=seconds)


def _decode_text(raw: bytes, what: str, offset: int, message_type: int) -> str:
    """ASCII text of a NUL-padded field that starts at message byte 2."""
    text = raw.split(b"\0", 1)[0]
    for index, byte in enumerate(text):
        if not 0x20 <= byte <= 0x7E:
            raise RemoteIdDecodeError(
                f"non-ASCII {what}: byte 0x{byte:02X} at byte {offset + 2 + index}",
                offset=offset,
                message_type=message_type,
            )
    return text.decode("ascii")
