"""Interop held to public conformance material (../shared/data/interop, see its README).

CAP: google/cap-library's test alerts (valid accepted, invalid rejected), its validator's rules as
mutations of the CAP 1.2 specification's thunderstorm example, and Hwarang's own alerts over an
incident's life (XSD, rules, Google profile). OpenDroneID: the reference C library's encodings,
decoded values and beacon frame, and its 719-row encoder sweep. Every check lands in the
conformance table of docs/interop.md.
"""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from hwarang.domain import (
    Classification,
    GeoPoint,
    Incident,
    IncidentState,
    ObjectClass,
    RuleKind,
    Severity,
)
from hwarang.interop.cap_profile import google_profile_problems, validate_google_profile
from hwarang.interop.cap_sent import MemorySentAlerts, send_cap
from hwarang.interop.cap_validate import check_alert_element, validate_cap, validate_cap_schema
from hwarang.interop.errors import CapError
from hwarang.interop.opendroneid import (
    Authentication,
    BasicId,
    LocationVector,
    MessagePack,
    OperatorId,
    SelfId,
    SystemMessage,
    decode_message,
    encode_message,
)
from hwarang.interop.opendroneid_messages import ODID_EPOCH, OdidMessage, SingleMessage
from hwarang.interop.opendroneid_wifi import build_beacon_frame, parse_beacon_pack
from tests.integration.interop.conformance_table import ConformanceTable

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
INTEROP = (REPO / ".." / "shared" / "data" / "interop").resolve()
CAP_LIBRARY = INTEROP / "cap-library"
ODID = INTEROP / "opendroneid"
THUNDERSTORM = REPO / "tests" / "unit" / "interop" / "data" / "cap12-a2-thunderstorm.xml"
"""The CAP 1.2 specification's example A.2, identical to cap-library's validator example thunderstorm.cap."""

VALID_CAP = (
    "australia.cap",
    "canada.cap",
    "canada_signed.cap",
    "earthquake-iso8859-1.cap",
    "earthquake.cap",
    "earthquake_signed.cap",
    "no_optional_fields.cap",
    "wcatwc-warning.cap",
    "weather.cap",
)
INVALID_CAP = ("canada_errors.cap", "invalid.cap", "noaa_errors.cap", "xee.cap")
EDXL_NS = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"


@pytest.fixture(scope="module")
def table() -> Iterator[ConformanceTable]:
    if not INTEROP.is_dir():
        pytest.skip(f"conformance material not found at {INTEROP}")
    recorded = ConformanceTable()
    yield recorded
    recorded.write()


def test_every_cap_file_is_classified() -> None:
    assert {p.name for p in CAP_LIBRARY.glob("*.cap")} == set(VALID_CAP) | set(INVALID_CAP)


@pytest.mark.parametrize("name", VALID_CAP)
def test_valid_cap_library_alert_is_accepted(table: ConformanceTable, name: str) -> None:
    data = (CAP_LIBRARY / name).read_bytes()
    with table.check("CAP 1.2/1.1", f"cap-library {name}", "accepted (structure + cap-library rules)"):
        validate_cap(data)
    if b"urn:oasis:names:tc:emergency:cap:1.2" in data:
        with table.check("CAP 1.2", f"cap-library {name}", "accepted by the OASIS XSD"):
            validate_cap_schema(data)


@pytest.mark.parametrize("name", INVALID_CAP)
def test_invalid_cap_library_alert_is_rejected(table: ConformanceTable, name: str) -> None:
    data = (CAP_LIBRARY / name).read_bytes()
    with table.check("CAP 1.2/1.1", f"cap-library {name}", "rejected"), pytest.raises(CapError) as caught:
        validate_cap(data)
    assert str(caught.value)


def _edxl_alerts(name: str) -> list[etree._Element]:
    root = etree.parse(str(CAP_LIBRARY / name)).getroot()
    found = root.findall(f".//{{{EDXL_NS}}}embeddedXMLContent/*")
    assert found, f"no embedded content in {name}"
    return list(found)


def test_edxlde_wrapped_alerts(table: ConformanceTable) -> None:
    with table.check(
        "CAP 1.2 in EDXL-DE 1.0", "cap-library bushfire_valid.edxlde", "every embedded alert accepted"
    ):
        for alert in _edxl_alerts("bushfire_valid.edxlde"):
            check_alert_element(alert)
    rejected = []
    for alert in _edxl_alerts("bushfire_invalid.edxlde"):
        try:
            check_alert_element(alert)
        except CapError as exc:
            rejected.append(str(exc))
    with table.check(
        "CAP 1.2 in EDXL-DE 1.0",
        "cap-library bushfire_invalid.edxlde",
        "the empty alert and the one with urgency Foobar rejected",
    ):
        assert len(rejected) == 2
        assert "identifier" in rejected[0] and "Foobar" in rejected[1]


# cap-library's validator rules (CapValidator, CapXmlParser), each as one mutation of thunderstorm.
RULE_CASES = {
    "restriction with scope Public": (
        r"</scope>",
        "</scope><restriction>staff only</restriction>",
        "restriction",
    ),
    "empty references": (r"</scope>", "</scope><references> </references>", "references"),
    "malformed references": (r"</scope>", "</scope><references>KSTO@NWS.NOAA.GOV,K1</references>", "triple"),
    "self-referencing references": (
        r"</scope>",
        "</scope><references>KSTO@NWS.NOAA.GOV,KSTO1055887203,2003-06-17T14:00:00-07:00</references>",
        "circular",
    ),
    "postdated references": (
        r"</scope>",
        "</scope><references>KSTO@NWS.NOAA.GOV,KSTO1,2003-06-18T14:00:00-07:00</references>",
        "postdated",
    ),
    "TAB in identifier": (r"<identifier>KSTO", "<identifier>KS\tTO", "identifier"),
    "newline in identifier": (r"<identifier>KSTO", "<identifier>KS\nTO", "identifier"),
    "space in sender": (r"<sender>KSTO@", "<sender>KSTO @", "sender"),
    "comma in identifier": (r"<identifier>KSTO", "<identifier>KS,TO", "identifier"),
    "self-intersecting polygon": (
        r"<polygon>[^<]*</polygon>",
        "<polygon>38.47,-120.14 38.62,-119.74 38.34,-119.95 38.52,-120.14 38.47,-120.14</polygon>",
        "intersects",
    ),
    "unclosed polygon": (
        r"<polygon>[^<]*</polygon>",
        "<polygon>38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89</polygon>",
        "polygon",
    ),
    "polygon of three points": (
        r"<polygon>[^<]*</polygon>",
        "<polygon>38.47,-120.14 38.34,-119.95 38.47,-120.14</polygon>",
        "polygon",
    ),
    "polygon latitude out of range": (
        r"<polygon>38\.47,-120\.14 ",
        "<polygon>98.47,-120.14 ",
        "polygon",
    ),
    "language en_US": (r"<info>", "<info><language>en_US</language>", "language"),
    "language too long a subtag": (r"<info>", "<info><language>toolonglang</language>", "language"),
    "relative web": (r"</instruction>", "</instruction><web>/alerts/KSTO1055887203</web>", "web"),
    "ceiling without altitude": (r"</area>", "<ceiling>100</ceiling></area>", "altitude"),
    "ceiling below altitude": (r"</area>", "<altitude>200</altitude><ceiling>100</ceiling></area>", "below"),
    "bad mimeType": (
        r"</contact>",
        "</contact><resource><resourceDesc>map</resourceDesc><mimeType>picture/jpeg</mimeType>"
        "<uri>http://example.org/map.jpg</uri></resource>",
        "mimeType",
    ),
    "mimeType without subtype": (
        r"</contact>",
        "</contact><resource><resourceDesc>map</resourceDesc><mimeType>image</mimeType></resource>",
        "mimeType",
    ),
    "relative uri without derefUri": (
        r"</contact>",
        "</contact><resource><resourceDesc>map</resourceDesc><mimeType>image/jpeg</mimeType>"
        "<uri>map.jpg</uri></resource>",
        "derefUri",
    ),
    "derefUri not base64": (
        r"</contact>",
        "</contact><resource><resourceDesc>map</resourceDesc><mimeType>image/jpeg</mimeType>"
        "<uri>map.jpg</uri><derefUri>not base64!</derefUri></resource>",
        "base64",
    ),
    "circle centre out of range": (r"<geocode>", "<circle>38.47,-220.14 5</circle><geocode>", "circle"),
    "sent without time zone": (r"<sent>([^<]*)-07:00</sent>", r"<sent>\1</sent>", "sent"),
    "unknown enum value": (r"<urgency>Immediate", "<urgency>Now", "urgency"),
    "missing scope": (r"<scope>Public</scope>", "", "scope"),
    "DOCTYPE with entities": (
        r"^<\?xml[^>]*\?>",
        '<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        "DOCTYPE",
    ),
}


def test_thunderstorm_itself_is_valid(table: ConformanceTable) -> None:
    with table.check("CAP 1.2", "spec A.2 / cap-library thunderstorm.cap", "accepted (rules + XSD)"):
        validate_cap(THUNDERSTORM.read_bytes())
        validate_cap_schema(THUNDERSTORM.read_bytes())


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_cap_library_rule_violation_is_rejected(table: ConformanceTable, case: str) -> None:
    pattern, replacement, message = RULE_CASES[case]
    text, count = re.subn(pattern, replacement, THUNDERSTORM.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"{pattern!r} not found in the thunderstorm example"
    rejected = pytest.raises(CapError, match=re.compile(message, re.IGNORECASE))
    with table.check("CAP 1.2 (cap-library rules)", f"thunderstorm.cap + {case}", "rejected"), rejected:
        validate_cap(text.encode())


T0 = datetime(2025, 8, 18, 14, 0, tzinfo=UTC)
HUB_URL = "https://hwarang.example.kr"


def _incident() -> Incident:
    return Incident(
        id=uuid.UUID("0b7f7a4e-51a6-4c36-9f0c-5a1a9e0e2d11"),
        seq=3,
        title="구역 침입 · 사람 · 북문",
        state=IncidentState.NEW,
        severity=Severity.HIGH,
        classification=Classification.UNCLASSIFIED,
        object_class=ObjectClass.PERSON,
        rule=RuleKind.ZONE_INTRUSION,
        camera_id="cam-1",
        center_id="seoul-jung",
        sido_code="11",
        sigungu_code="11140",
        geo=GeoPoint(lat=37.5663, lon=126.9779),
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=20),
        event_ids=(uuid.uuid4(),),
        created_at=T0 + timedelta(seconds=21),
        updated_at=T0 + timedelta(seconds=21),
    )


def _life() -> list[tuple[str, Incident]]:
    new = _incident()
    updated = new.model_copy(
        update={"seq": 9, "state": IncidentState.RESPONDING, "updated_at": T0 + timedelta(minutes=5)}
    )
    resolved = updated.model_copy(
        update={"seq": 15, "state": IncidentState.RESOLVED, "updated_at": T0 + timedelta(minutes=30)}
    )
    restricted = _incident().model_copy(
        update={"id": uuid.uuid4(), "classification": Classification.RESTRICTED}
    )
    false_alarm = restricted.model_copy(
        update={"seq": 12, "state": IncidentState.FALSE_ALARM, "updated_at": T0 + timedelta(minutes=8)}
    )
    return [
        ("new", new),
        ("updated", updated),
        ("resolved", resolved),
        ("new (restricted)", restricted),
        ("false alarm", false_alarm),
    ]


def test_hwarang_alerts_over_an_incident_life(table: ConformanceTable) -> None:
    sent = MemorySentAlerts()
    expected_type = {"new": "Alert", "updated": "Update", "resolved": "Update", "false alarm": "Cancel"}
    expected_refs = {"new": 0, "updated": 1, "resolved": 2, "new (restricted)": 0, "false alarm": 1}
    for stage, incident in _life():
        body = send_cap(incident, sent, sender="hwarang-hub", web_base_url=HUB_URL)
        root = etree.fromstring(body)
        ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
        vector = f"Hwarang alert: {stage} incident"
        with table.check("CAP 1.2", vector, "OASIS XSD"):
            validate_cap_schema(body)
        with table.check("CAP 1.2 (cap-library rules)", vector, "accepted"):
            validate_cap(body)
        with table.check("CAP 1.2 (Google profile)", vector, "required elements present"):
            validate_google_profile(body)
            assert google_profile_problems(body) == []
        with table.check("CAP 1.2", vector, "msgType, references, expires, web"):
            msg_type = root.findtext("cap:msgType", namespaces=ns)
            assert msg_type == expected_type.get(stage.split(" (")[0], "Alert")
            references = (root.findtext("cap:references", namespaces=ns) or "").split()
            assert len(references) == expected_refs[stage]
            assert all(ref.startswith("hwarang-hub,") and f"{incident.id}." in ref for ref in references)
            assert root.findtext("cap:info/cap:web", namespaces=ns) == f"{HUB_URL}/?incident={incident.id}"
            expires = datetime.fromisoformat(root.findtext("cap:info/cap:expires", namespaces=ns) or "")
            assert expires > incident.updated_at


# -- OpenDroneID ------------------------------------------------------------------------------

AUTH_DATA = b"12345678901234567890123"
INOUT_MESSAGES: dict[str, SingleMessage] = {
    "BasicID": BasicId(id_type=2, ua_type=2, uas_id="12345678901234567890"),
    "Location": LocationVector(
        status=2,
        height_type=1,
        direction_deg=215.7,
        speed_ms=5.4,
        vert_speed_ms=5.25,
        lat=45.5393090,
        lon=-122.9663890,
        alt_baro_m=100.0,
        alt_geo_m=110.0,
        height_m=80.0,
        horizontal_accuracy=11,
        vertical_accuracy=6,
        baro_accuracy=5,
        speed_accuracy=3,
        timestamp_accuracy=2,
        timestamp_s=360.52,
    ),
    "Auth0": Authentication(
        auth_type=1,
        page_number=0,
        last_page_index=1,
        length=40,
        timestamp=ODID_EPOCH + timedelta(seconds=28_000_000),
        data=AUTH_DATA[:17],
    ),
    "Auth1": Authentication(auth_type=1, page_number=1, last_page_index=None, length=None, data=AUTH_DATA),
    "SelfID": SelfId(description_type=0, description="DronesRUS: Real Estate"),
    "System": SystemMessage(
        operator_location_type=0,
        classification_type=1,
        operator_lat=45.5393190,
        operator_lon=-122.9663790,
        area_count=35,
        area_radius_m=75,
        area_ceiling_m=176.9,
        area_floor_m=41.7,
        category_eu=2,
        class_eu=4,
        operator_alt_m=20.5,
        timestamp=ODID_EPOCH + timedelta(seconds=28_000_000),
    ),
    "OperatorID": OperatorId(operator_id_type=0, operator_id="98765432100123456789"),
}


def _harness() -> tuple[dict[str, bytes], dict[str, dict[str, str]]]:
    text = (ODID / "test_inout_reference.txt").read_text(encoding="utf-8").split("=====HARNESS=====", 1)[1]
    hexes = {
        m.group(1): bytes.fromhex(m.group(2)) for m in re.finditer(r"^HEX (\w+) ([0-9a-f]+)$", text, re.M)
    }
    decoded = {
        m.group(1): dict(pair.split("=", 1) for pair in m.group(2).split())
        for m in re.finditer(r"^(C_\w+_DECODED) (.+)$", text, re.M)
    }
    return hexes, decoded


@pytest.mark.parametrize("name", sorted(INOUT_MESSAGES))
def test_reference_message_encodes_byte_for_byte(table: ConformanceTable, name: str) -> None:
    hexes, _ = _harness()
    with table.check("ASTM F3411 (OpenDroneID)", f"test_inout {name}", "encodes to the C library's 25 bytes"):
        assert encode_message(INOUT_MESSAGES[name]).hex() == hexes[name].hex()
    with table.check("ASTM F3411 (OpenDroneID)", f"test_inout {name}", "C bytes decode and re-encode"):
        assert encode_message(decode_message(hexes[name])) == hexes[name]


def test_reference_pack_and_decoded_values(table: ConformanceTable) -> None:
    hexes, decoded = _harness()
    order = ("BasicID", "Location", "Auth0", "Auth1", "SelfID", "System", "OperatorID")
    with table.check("ASTM F3411 (OpenDroneID)", "test_inout Pack", "7-message pack byte for byte"):
        assert encode_message(MessagePack(messages=tuple(INOUT_MESSAGES[n] for n in order))) == hexes["Pack"]
    location, system = decode_message(hexes["Location"]), decode_message(hexes["System"])
    assert isinstance(location, LocationVector) and isinstance(system, SystemMessage)
    loc, sys_ = decoded["C_LOC_DECODED"], decoded["C_SYS_DECODED"]
    with table.check(
        "ASTM F3411 (OpenDroneID)", "test_inout C_LOC_DECODED", "decoded values match the C decoder"
    ):
        got = {
            "dir": location.direction_deg,
            "speed": location.speed_ms,
            "vspeed": location.vert_speed_ms,
            "lat": location.lat,
            "lon": location.lon,
            "baro": location.alt_baro_m,
            "geo": location.alt_geo_m,
            "height": location.height_m,
            "ts": location.timestamp_s,
            "hacc": location.horizontal_accuracy,
            "vacc": location.vertical_accuracy,
            "bacc": location.baro_accuracy,
            "sacc": location.speed_accuracy,
            "tsacc": location.timestamp_accuracy,
        }
        assert {k: float(v) for k, v in loc.items()} == pytest.approx(
            {k: float(v or 0) for k, v in got.items()}
        )
    with table.check(
        "ASTM F3411 (OpenDroneID)", "test_inout C_SYS_DECODED", "decoded values match the C decoder"
    ):
        assert system.timestamp is not None
        got = {
            "lat": system.operator_lat,
            "lon": system.operator_lon,
            "count": system.area_count,
            "radius": system.area_radius_m,
            "ceil": system.area_ceiling_m,
            "floor": system.area_floor_m,
            "cat": system.category_eu,
            "class": system.class_eu,
            "opalt": system.operator_alt_m,
            "ts": (system.timestamp - ODID_EPOCH).total_seconds(),
        }
        assert {k: float(v) for k, v in sys_.items()} == pytest.approx(
            {k: float(v or 0) for k, v in got.items()}
        )


def _single(message: OdidMessage) -> SingleMessage:
    assert not isinstance(message, MessagePack), "a single message decoded as a pack"
    return message


def test_reference_beacon_frame(table: ConformanceTable) -> None:
    hexes, _ = _harness()
    messages = (
        BasicId(id_type=1, ua_type=4, uas_id="USS-Enterprise"),
        LocationVector(
            status=2, direction_deg=0.25, speed_ms=62.0, vert_speed_ms=62.0,
            alt_baro_m=0.0, alt_geo_m=0.0, height_m=0.0, timestamp_s=0.0,
        ),
        SystemMessage(
            area_count=0, area_ceiling_m=0.0, area_floor_m=0.0, operator_alt_m=0.0,
            timestamp=ODID_EPOCH + timedelta(seconds=0x12345678),
        ),
    )  # fmt: skip
    frame = build_beacon_frame(
        messages,
        mac="12:34:56:21:43:65",
        ssid="testSSID_0123456789A",
        send_counter=0x55,
        interval_tu=100,
        tsf_us=0xFFFFFFFFFFFFFFFF,
    )
    with table.check("ASTM F3411 Wi-Fi Beacon", "test_inout Beacon (146 bytes)", "frame byte for byte"):
        assert len(frame) == 146
        assert frame.hex() == hexes["Beacon"].hex()
    with table.check(
        "ASTM F3411 Wi-Fi Beacon", "test_inout Beacon (146 bytes)", "pack read back from the frame"
    ):
        counter, pack = parse_beacon_pack(hexes["Beacon"])
        assert counter == 0x55
        assert decode_message(pack) == MessagePack(
            messages=tuple(_single(decode_message(encode_message(m))) for m in messages)
        )


def test_encoder_sweep_byte_for_byte(table: ConformanceTable) -> None:
    lines = [ln for ln in (ODID / "encoder_sweep.tsv").read_text().splitlines() if not ln.startswith("#")]
    header, rows = lines[0].split("\t"), [ln.split("\t") for ln in lines[1:]]
    assert header[:5] == ["vert_speed_ms", "alt_geo_m", "speed_ms", "direction_deg", "area_radius_m"]
    mismatches = []
    for row in rows:
        vspeed, alt, speed, direction, radius = map(float, row[:5])
        location = LocationVector(
            vert_speed_ms=vspeed, alt_geo_m=alt, speed_ms=speed, direction_deg=direction, timestamp_s=0.0
        )
        system = SystemMessage(area_radius_m=int(radius), area_ceiling_m=alt, area_count=1)
        if encode_message(location).hex() != row[5] or encode_message(system).hex() != row[6]:
            mismatches.append(row[:5])
    result = f"pass ({len(rows) - len(mismatches)}/{len(rows)} rows)"
    with table.check(
        "ASTM F3411 (OpenDroneID)", "encoder_sweep.tsv", "Location + System byte for byte", result
    ):
        assert len(rows) == 719
        assert mismatches == []
