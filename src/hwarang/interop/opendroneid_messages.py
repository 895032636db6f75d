"""The OpenDroneID (ASTM F3411 / ASD-STAN prEN 4709-002) messages as typed, immutable values.

Values are in SI units as decoded from the 25-byte broadcast form (see :mod:`hwarang.interop.opendroneid`);
a field the sender marked invalid or unknown is ``None``. Enumerated fields are plain ``int`` so reserved
and private-use codes survive decoding; compare them with the ``IntEnum`` constants below.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum

from hwarang.interop.errors import InteropError

MESSAGE_SIZE = 25
PACK_MAX_MESSAGES = 9
PROTOCOL_VERSION = 2
"""Protocol version written by the encoder (2 = ASTM F3411-22a); any 0..15 is decoded."""
ODID_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
"""Reference of the System and Authentication time stamps (seconds since then)."""


class MessageType(IntEnum):
    """High nibble of a message's first byte."""

    BASIC_ID = 0x0
    LOCATION = 0x1
    AUTH = 0x2
    SELF_ID = 0x3
    SYSTEM = 0x4
    OPERATOR_ID = 0x5
    PACK = 0xF


MESSAGE_TYPE_NAMES: dict[int, str] = {
    MessageType.BASIC_ID: "Basic ID",
    MessageType.LOCATION: "Location/Vector",
    MessageType.AUTH: "Authentication",
    MessageType.SELF_ID: "Self-ID",
    MessageType.SYSTEM: "System",
    MessageType.OPERATOR_ID: "Operator ID",
    MessageType.PACK: "Message Pack",
}


class IdType(IntEnum):
    """What the Basic ID's UAS ID is (5..15 reserved)."""

    NONE = 0
    SERIAL_NUMBER = 1
    CAA_REGISTRATION_ID = 2
    UTM_ASSIGNED_UUID = 3
    SPECIFIC_SESSION_ID = 4


class UaType(IntEnum):
    """Kind of unmanned aircraft."""

    NONE = 0
    AEROPLANE = 1
    HELICOPTER_OR_MULTIROTOR = 2
    GYROPLANE = 3
    HYBRID_LIFT = 4
    ORNITHOPTER = 5
    GLIDER = 6
    KITE = 7
    FREE_BALLOON = 8
    CAPTIVE_BALLOON = 9
    AIRSHIP = 10
    FREE_FALL_PARACHUTE = 11
    ROCKET = 12
    TETHERED_POWERED_AIRCRAFT = 13
    GROUND_OBSTACLE = 14
    OTHER = 15


class OperationalStatus(IntEnum):
    """Location message status (5..15 reserved)."""

    UNDECLARED = 0
    GROUND = 1
    AIRBORNE = 2
    EMERGENCY = 3
    REMOTE_ID_SYSTEM_FAILURE = 4


class HeightReference(IntEnum):
    """What the Location message's height is measured from."""

    OVER_TAKEOFF = 0
    OVER_GROUND = 1


class OperatorLocationType(IntEnum):
    """Where the System message's operator position comes from (3 reserved)."""

    TAKEOFF = 0
    LIVE_GNSS = 1
    FIXED = 2


class ClassificationType(IntEnum):
    """System message classification scheme (2..7 reserved)."""

    UNDECLARED = 0
    EU = 1


class AuthType(IntEnum):
    """Authentication type (6..9 reserved, 0xA..0xF private use)."""

    NONE = 0
    UAS_ID_SIGNATURE = 1
    OPERATOR_ID_SIGNATURE = 2
    MESSAGE_SET_SIGNATURE = 3
    NETWORK_REMOTE_ID = 4
    SPECIFIC_AUTHENTICATION = 5


EU_CATEGORY_NAMES = {1: "Open", 2: "Specific", 3: "Certified"}
EU_CLASS_NAMES = {1: "C0", 2: "C1", 3: "C2", 4: "C3", 5: "C4", 6: "C5", 7: "C6"}

_HORIZONTAL_ACCURACY_M = {
    1: 18520.0, 2: 7408.0, 3: 3704.0, 4: 1852.0, 5: 926.0, 6: 555.6,
    7: 185.2, 8: 92.6, 9: 30.0, 10: 10.0, 11: 3.0, 12: 1.0,
}  # fmt: skip
_VERTICAL_ACCURACY_M = {1: 150.0, 2: 45.0, 3: 25.0, 4: 10.0, 5: 3.0, 6: 1.0}
_SPEED_ACCURACY_MS = {1: 10.0, 2: 3.0, 3: 1.0, 4: 0.3}


class RemoteIdDecodeError(InteropError, ValueError):
    """Bytes that are not valid OpenDroneID; says which message, at which byte, and what is wrong."""

    def __init__(self, reason: str, *, offset: int = 0, message_type: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        self.message_type = message_type
        if message_type is None:
            where = f"OpenDroneID data at byte {offset}"
        else:
            name = MESSAGE_TYPE_NAMES.get(message_type, "unknown")
            where = f"{name} message (type 0x{message_type:X}) at byte {offset}"
        super().__init__(f"{where}: {reason}")


class RemoteIdEncodeError(InteropError, ValueError):
    """A message value that cannot be expressed in the broadcast format (names the field and the limit)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class BasicId:
    """Message 0x0: who the aircraft is.

    ``uas_id`` is the ASCII ID for id types 0..2, the canonical UUID text for a UTM-assigned UUID (3),
    and lower-case hex of the 20 bytes without trailing zero bytes for a specific session ID (4) and
    reserved types.
    """

    id_type: int = IdType.SERIAL_NUMBER
    ua_type: int = UaType.NONE
    uas_id: str = ""
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True, kw_only=True, slots=True)
class LocationVector:
    """Message 0x1: where the aircraft is and how it moves.

    ``timestamp_s`` is seconds after the full UTC hour (0.1 s resolution); the accuracy fields are the
    standard's enum codes (see the ``*_accuracy_m`` properties for metres).
    """

    status: int = OperationalStatus.UNDECLARED
    height_type: int = HeightReference.OVER_TAKEOFF
    direction_deg: float | None = None
    speed_ms: float | None = None
    vert_speed_ms: float | None = None
    lat: float | None = None
    lon: float | None = None
    alt_baro_m: float | None = None
    alt_geo_m: float | None = None
    height_m: float | None = None
    horizontal_accuracy: int = 0
    vertical_accuracy: int = 0
    baro_accuracy: int = 0
    speed_accuracy: int = 0
    timestamp_accuracy: int = 0
    timestamp_s: float | None = None
    protocol_version: int = PROTOCOL_VERSION

    @property
    def horizontal_accuracy_m(self) -> float | None:
        """Horizontal position accuracy bound in metres, ``None`` when unknown or reserved."""
        return _HORIZONTAL_ACCURACY_M.get(self.horizontal_accuracy)

    @property
    def vertical_accuracy_m(self) -> float | None:
        """Geodetic altitude accuracy bound in metres, ``None`` when unknown or reserved."""
        return _VERTICAL_ACCURACY_M.get(self.vertical_accuracy)

    @property
    def baro_accuracy_m(self) -> float | None:
        """Barometric altitude accuracy bound in metres, ``None`` when unknown or reserved."""
        return _VERTICAL_ACCURACY_M.get(self.baro_accuracy)

    @property
    def speed_accuracy_ms(self) -> float | None:
        """Speed accuracy bound in m/s, ``None`` when unknown or reserved."""
        return _SPEED_ACCURACY_MS.get(self.speed_accuracy)

    @property
    def timestamp_accuracy_s(self) -> float | None:
        """Time stamp accuracy in seconds (code * 0.1), ``None`` when unknown."""
        return self.timestamp_accuracy / 10 if self.timestamp_accuracy else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Authentication:
    """Message 0x2: one page of authentication data.

    Page 0 carries ``last_page_index``, ``length`` (bytes over all pages) and ``timestamp`` and 17 data
    bytes; pages 1..15 carry only 23 data bytes (those three fields are ``None``). ``data`` is the raw
    page payload including zero padding.
    """

    auth_type: int = AuthType.NONE
    page_number: int = 0
    last_page_index: int | None = 0
    length: int | None = 0
    timestamp: datetime | None = None
    data: bytes = b""
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True, kw_only=True, slots=True)
class SelfId:
    """Message 0x3: the operator's free-text description of the flight (0 = text, 1 = emergency, ...)."""

    description_type: int = 0
    description: str = ""
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemMessage:
    """Message 0x4: operator position, group area, EU classification, and a UTC time stamp."""

    operator_location_type: int = OperatorLocationType.TAKEOFF
    classification_type: int = ClassificationType.UNDECLARED
    operator_lat: float | None = None
    operator_lon: float | None = None
    area_count: int = 1
    area_radius_m: int = 0
    area_ceiling_m: float | None = None
    area_floor_m: float | None = None
    category_eu: int = 0
    class_eu: int = 0
    operator_alt_m: float | None = None
    timestamp: datetime | None = None
    protocol_version: int = PROTOCOL_VERSION

    @property
    def classification(self) -> str | None:
        """E.g. ``"EU Open C1"``; ``None`` when undeclared."""
        if self.classification_type != ClassificationType.EU:
            return None
        parts = ["EU"]
        if self.category_eu in EU_CATEGORY_NAMES:
            parts.append(EU_CATEGORY_NAMES[self.category_eu])
        if self.class_eu in EU_CLASS_NAMES:
            parts.append(EU_CLASS_NAMES[self.class_eu])
        return " ".join(parts)


@dataclass(frozen=True, kw_only=True, slots=True)
class OperatorId:
    """Message 0x5: the operator's registration ID (type 0 = operator ID)."""

    operator_id_type: int = 0
    operator_id: str = ""
    protocol_version: int = PROTOCOL_VERSION


SingleMessage = BasicId | LocationVector | Authentication | SelfId | SystemMessage | OperatorId


@dataclass(frozen=True, kw_only=True, slots=True)
class MessagePack:
    """Message 0xF: up to nine single messages broadcast together."""

    messages: tuple[SingleMessage, ...] = field(default_factory=tuple)
    protocol_version: int = PROTOCOL_VERSION


OdidMessage = SingleMessage | MessagePack
