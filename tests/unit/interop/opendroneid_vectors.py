"""Hand-built OpenDroneID byte vectors (ASTM F3411-22a layout, little-endian) and their decoded values.

Each vector is written byte by byte from the published message layout, never produced by our encoder.
"""

from datetime import UTC, datetime

from hwarang.interop.opendroneid import (
    Authentication,
    AuthType,
    BasicId,
    ClassificationType,
    HeightReference,
    IdType,
    LocationVector,
    OdidMessage,
    OperationalStatus,
    OperatorId,
    OperatorLocationType,
    SelfId,
    SystemMessage,
    UaType,
)

BASIC_ID = bytes(
    [
        0x02,  # type 0x0 Basic ID | protocol version 2
        0x12,  # id type 1 (serial number) << 4 | UA type 2 (helicopter or multirotor)
    ]
)
BASIC_ID += b"KR-DRONE-0001" + b"\0" * 7  # bytes 2-21: UAS ID, 20 chars NUL-padded
BASIC_ID += b"\0\0\0"  # bytes 22-24: reserved

LOCATION = bytes(
    [
        0x12,  # type 0x1 Location/Vector | version 2
        0x26,  # status 2 (airborne) << 4 | height type 1 (over ground) << 2 | E/W bit 1 << 1 | speed mult 0
        0x5A,  # direction 90 (+180 from the E/W bit = 270 deg)
        0x32,  # horizontal speed 50 * 0.25 = 12.5 m/s
        0xFD,  # vertical speed int8 -3 * 0.5 = -1.5 m/s
        0x68, 0x31, 0x64, 0x16,  # latitude int32 375665000 -> 37.5665 deg
        0x20, 0x4E, 0xAF, 0x4B,  # longitude int32 1269780000 -> 126.978 deg
        0x8F, 0x08,  # baro altitude 2191 * 0.5 - 1000 = 95.5 m
        0xC0, 0x08,  # geodetic altitude 2240 * 0.5 - 1000 = 120 m
        0x34, 0x08,  # height 2100 * 0.5 - 1000 = 50 m
        0x4A,  # vertical accuracy 4 (<10 m) << 4 | horizontal accuracy 10 (<10 m)
        0x32,  # baro accuracy 3 (<25 m) << 4 | speed accuracy 2 (<3 m/s)
        0x39, 0x30,  # time stamp 12345 tenths = 1234.5 s after the hour
        0x02,  # reserved << 4 | time stamp accuracy 2 (0.2 s)
        0x00,  # reserved
    ]
)  # fmt: skip

LOCATION_FAST_WEST = bytes(
    [
        0x10,  # type 0x1 | version 0 (F3411-19)
        0x13,  # status 1 (ground) << 4 | height type 0 | E/W bit 1 | speed multiplier 1
        0x00,  # direction 0 + 180 = 180 deg
        0x64,  # speed 100 * 0.75 + 63.75 = 138.75 m/s
        0x7C,  # vertical speed 124 * 0.5 = 62 m/s
        0x98, 0xCE, 0x9B, 0xE9,  # latitude int32 -375665000 -> -37.5665 deg
        0xE0, 0xB1, 0x50, 0xB4,  # longitude int32 -1269780000 -> -126.978 deg
        0x01, 0x00,  # baro altitude 1 * 0.5 - 1000 = -999.5 m
        0xFF, 0xFF,  # geodetic altitude 65535 * 0.5 - 1000 = 31767.5 m
        0xD0, 0x07,  # height 2000 * 0.5 - 1000 = 0 m
        0x00, 0x00,  # accuracies unknown
        0x00, 0x00,  # time stamp 0 s after the hour
        0x00, 0x00,  # time stamp accuracy unknown, reserved
    ]
)  # fmt: skip

LOCATION_UNKNOWN = bytes(
    [
        0x12,  # type 0x1 | version 2
        0x03,  # status 0 (undeclared) | height type 0 | E/W bit 1 | speed multiplier 1
        0xB5,  # direction 181 + 180 = 361 -> unknown
        0xFF,  # speed 255 with multiplier -> unknown
        0x7E,  # vertical speed 126 * 0.5 = 63 m/s -> unknown
        0x00, 0x00, 0x00, 0x00,  # latitude 0 and
        0x00, 0x00, 0x00, 0x00,  # longitude 0 -> unknown position
        0x00, 0x00,  # baro altitude 0 -> -1000 m -> unknown
        0x00, 0x00,  # geodetic altitude unknown
        0x00, 0x00,  # height unknown
        0x00, 0x00,  # accuracies unknown
        0xFF, 0xFF,  # time stamp 0xFFFF -> unknown
        0x00, 0x00,
    ]
)  # fmt: skip

AUTH_PAGE_0 = bytes(
    [
        0x22,  # type 0x2 Authentication | version 2
        0x10,  # auth type 1 (UAS ID signature) << 4 | page number 0
        0x01,  # last page index 1
        0x28,  # length 40 bytes over all pages
        0x80, 0x0B, 0x2B, 0x0D,  # time stamp uint32 220924800 s after 2019-01-01 = 2026-01-01 00:00 UTC
    ]
)  # fmt: skip
AUTH_PAGE_0 += bytes(range(1, 18))  # bytes 8-24: 17 data bytes 0x01..0x11

AUTH_PAGE_1 = bytes(
    [
        0x22,  # type 0x2 | version 2
        0x11,  # auth type 1 << 4 | page number 1
    ]
)
AUTH_PAGE_1 += bytes(range(0x12, 0x29))  # bytes 2-24: 23 data bytes 0x12..0x28

SELF_ID = bytes(
    [
        0x32,  # type 0x3 Self-ID | version 2
        0x00,  # description type 0 (text)
    ]
)
SELF_ID += b"Power line inspection\0\0"  # bytes 2-24: 23 chars NUL-padded

SYSTEM = bytes(
    [
        0x42,  # type 0x4 System | version 2
        0x05,  # reserved << 5 | classification type 1 (EU) << 2 | operator location type 1 (live GNSS)
        0x80, 0x33, 0x63, 0x16,  # operator latitude int32 375600000 -> 37.56 deg
        0xA0, 0x15, 0xAE, 0x4B,  # operator longitude int32 1269700000 -> 126.97 deg
        0x01, 0x00,  # area count 1
        0x05,  # area radius 5 * 10 = 50 m
        0xFC, 0x08,  # area ceiling 2300 * 0.5 - 1000 = 150 m
        0xD0, 0x07,  # area floor 2000 * 0.5 - 1000 = 0 m
        0x12,  # EU category 1 (open) << 4 | EU class 2 (C1)
        0x0C, 0x08,  # operator altitude 2060 * 0.5 - 1000 = 30 m
        0xA0, 0xB2, 0xDA, 0x0E,  # time stamp uint32 249213600 s after 2019-01-01 = 2026-11-24 10:00 UTC
        0x00,  # reserved
    ]
)  # fmt: skip

OPERATOR_ID = bytes(
    [
        0x52,  # type 0x5 Operator ID | version 2
        0x00,  # operator ID type 0
    ]
)
OPERATOR_ID += b"KOR-OP-12345" + b"\0" * 8  # bytes 2-21: 20 chars NUL-padded
OPERATOR_ID += b"\0\0\0"  # bytes 22-24: reserved

UTM_UUID_BASIC_ID = bytes([0x02, 0x31])  # Basic ID v2 | id type 3 (UTM UUID) << 4 | UA type 1 (aeroplane)
UTM_UUID_BASIC_ID += bytes.fromhex("123e4567e89b12d3a456426614174000")  # bytes 2-17: the UUID's 16 bytes
UTM_UUID_BASIC_ID += b"\0" * 7  # bytes 18-21 unused, 22-24 reserved

PACK = bytes(
    [
        0xF2,  # type 0xF Message Pack | version 2
        0x19,  # single message size 25
        0x03,  # 3 messages follow
    ]
)
PACK += BASIC_ID + LOCATION + SYSTEM

EXPECTED: list[tuple[str, bytes, OdidMessage]] = [
    (
        "basic_id",
        BASIC_ID,
        BasicId(
            id_type=IdType.SERIAL_NUMBER, ua_type=UaType.HELICOPTER_OR_MULTIROTOR, uas_id="KR-DRONE-0001"
        ),
    ),
    (
        "location",
        LOCATION,
        LocationVector(
            status=OperationalStatus.AIRBORNE,
            height_type=HeightReference.OVER_GROUND,
            direction_deg=270.0,
            speed_ms=12.5,
            vert_speed_ms=-1.5,
            lat=37.5665,
            lon=126.978,
            alt_baro_m=95.5,
            alt_geo_m=120.0,
            height_m=50.0,
            horizontal_accuracy=10,
            vertical_accuracy=4,
            baro_accuracy=3,
            speed_accuracy=2,
            timestamp_accuracy=2,
            timestamp_s=1234.5,
        ),
    ),
    (
        "location_fast_west",
        LOCATION_FAST_WEST,
        LocationVector(
            status=OperationalStatus.GROUND,
            direction_deg=180.0,
            speed_ms=138.75,
            vert_speed_ms=62.0,
            lat=-37.5665,
            lon=-126.978,
            alt_baro_m=-999.5,
            alt_geo_m=31767.5,
            height_m=0.0,
            timestamp_s=0.0,
            protocol_version=0,
        ),
    ),
    ("location_unknown", LOCATION_UNKNOWN, LocationVector()),
    (
        "auth_page_0",
        AUTH_PAGE_0,
        Authentication(
            auth_type=AuthType.UAS_ID_SIGNATURE,
            page_number=0,
            last_page_index=1,
            length=40,
            timestamp=datetime(2026, 1, 1, tzinfo=UTC),
            data=bytes(range(1, 18)),
        ),
    ),
    (
        "auth_page_1",
        AUTH_PAGE_1,
        Authentication(
            auth_type=AuthType.UAS_ID_SIGNATURE,
            page_number=1,
            last_page_index=None,
            length=None,
            data=bytes(range(0x12, 0x29)),
        ),
    ),
    ("self_id", SELF_ID, SelfId(description_type=0, description="Power line inspection")),
    (
        "system",
        SYSTEM,
        SystemMessage(
            operator_location_type=OperatorLocationType.LIVE_GNSS,
            classification_type=ClassificationType.EU,
            operator_lat=37.56,
            operator_lon=126.97,
            area_count=1,
            area_radius_m=50,
            area_ceiling_m=150.0,
            area_floor_m=0.0,
            category_eu=1,
            class_eu=2,
            operator_alt_m=30.0,
            timestamp=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        ),
    ),
    ("operator_id", OPERATOR_ID, OperatorId(operator_id_type=0, operator_id="KOR-OP-12345")),
    (
        "basic_id_utm_uuid",
        UTM_UUID_BASIC_ID,
        BasicId(
            id_type=IdType.UTM_ASSIGNED_UUID,
            ua_type=UaType.AEROPLANE,
            uas_id="123e4567-e89b-12d3-a456-426614174000",
        ),
    ),
]
