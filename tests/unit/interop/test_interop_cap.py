"""CAP 1.2: incidents export as alerts that pass the OASIS XSD and the structural validator;
both validators accept the published CAP 1.2 examples and reject broken variants of them."""

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from hwarang.domain import Classification, IncidentState, ObjectClass, Severity
from hwarang.interop.cap import (
    CAP_NS,
    CapReference,
    cap_codes,
    cap_time,
    catalog_region_name,
    incident_to_cap,
)
from hwarang.interop.cap_validate import validate_cap, validate_cap_schema
from hwarang.interop.errors import CapError
from tests.unit.interop.interop_support import OASIS_EXAMPLES, make_incident

NS = {"cap": CAP_NS}
Validator = Callable[[bytes], None]
VALIDATORS = pytest.mark.parametrize(
    "validate", [validate_cap, validate_cap_schema], ids=["structural", "oasis-xsd"]
)


def _text(xml: bytes, path: str) -> list[str]:
    return [str(node.text) for node in etree.fromstring(xml).iterfind(path, NS)]


def _one(xml: bytes, path: str) -> str:
    (value,) = _text(xml, path)
    return value


@pytest.mark.parametrize(
    ("state", "severity", "classification", "exercise", "has_geo"),
    [
        (state, severity, classification, exercise, has_geo)
        for (state, severity), classification, exercise, has_geo in itertools.product(
            zip(IncidentState, itertools.cycle(Severity), strict=False),
            (Classification.UNCLASSIFIED, Classification.SECRET),
            (False, True),
            (False, True),
        )
    ],
)
def test_every_incident_shape_passes_both_validators(
    state: IncidentState, severity: Severity, classification: Classification, exercise: bool, has_geo: bool
) -> None:
    incident = make_incident(
        state=state,
        severity=severity,
        classification=classification,
        exercise=exercise,
        geo=None if not has_geo else make_incident().geo,
    )
    xml = incident_to_cap(incident, region_names={"11": "서울특별시", "11140": "중구"}.get)
    validate_cap(xml)
    validate_cap_schema(xml)


def test_alert_carries_identity_status_scope_and_area() -> None:
    incident = make_incident(exercise=True)
    xml = incident_to_cap(incident, sender="hub@hwarang.example", region_names=catalog_region_name)
    assert xml.startswith(b"<?xml")
    assert etree.fromstring(xml).tag == f"{{{CAP_NS}}}alert"
    assert _one(xml, "cap:identifier") == f"{incident.id}.7"
    assert _one(xml, "cap:sender") == "hub@hwarang.example"
    assert _one(xml, "cap:sent") == "2025-08-18T23:00:31+09:00"
    assert _one(xml, "cap:status") == "Exercise"
    assert _one(xml, "cap:msgType") == "Alert"
    assert _one(xml, "cap:scope") == "Restricted"
    assert "RESTRICTED (대외비)" in _one(xml, "cap:restriction")
    assert _one(xml, "cap:incidents") == str(incident.id)
    assert _one(xml, "cap:info/cap:language") == "ko-KR"
    assert _one(xml, "cap:info/cap:category") == "Security"
    assert _one(xml, "cap:info/cap:event") == "구역 침입 (사람)"
    assert _one(xml, "cap:info/cap:headline") == incident.title
    assert _one(xml, "cap:info/cap:onset") == "2025-08-18T23:00:00+09:00"
    assert _one(xml, "cap:info/cap:area/cap:areaDesc") == "서울특별시 중구 (11140)"
    assert _one(xml, "cap:info/cap:area/cap:circle") == "37.566312,126.977912 0.1"
    assert _text(xml, "cap:info/cap:area/cap:geocode/cap:valueName") == ["KR-ADM"]
    assert _text(xml, "cap:info/cap:area/cap:geocode/cap:value") == ["11140"]
    params = dict(
        zip(
            _text(xml, "cap:info/cap:parameter/cap:valueName"),
            _text(xml, "cap:info/cap:parameter/cap:value"),
            strict=True,
        )
    )
    assert params["HWARANG_INCIDENT_ID"] == str(incident.id)
    assert (params["HWARANG_STATE"], params["HWARANG_ZONE_ID"]) == ("new", "1")
    assert "[훈련]" in _one(xml, "cap:info/cap:description")


def test_unclassified_is_public_and_unknown_position_has_no_circle() -> None:
    xml = incident_to_cap(make_incident(classification=Classification.UNCLASSIFIED, geo=None))
    assert _one(xml, "cap:scope") == "Public"
    assert _text(xml, "cap:restriction") == []
    assert _text(xml, "cap:info/cap:area/cap:circle") == []
    assert _one(xml, "cap:info/cap:area/cap:areaDesc") == "KR-ADM 11140"
    assert _one(xml, "cap:status") == "Actual"


@pytest.mark.parametrize(
    ("state", "severity", "updated", "codes_text"),
    [
        (IncidentState.NEW, Severity.CRITICAL, False, "Alert Immediate Extreme Possible Monitor"),
        (IncidentState.NEW, Severity.HIGH, True, "Update Immediate Severe Possible Monitor"),
        (IncidentState.ASSESSING, Severity.MEDIUM, True, "Update Expected Moderate Likely Monitor"),
        (IncidentState.RESPONDING, Severity.LOW, True, "Update Future Minor Observed Monitor"),
        (IncidentState.RESOLVED, Severity.HIGH, True, "Update Past Severe Observed AllClear"),
        (IncidentState.FALSE_ALARM, Severity.HIGH, True, "Cancel Past Severe Unlikely AllClear"),
    ],
)
def test_codes_follow_severity_and_state(
    state: IncidentState, severity: Severity, updated: bool, codes_text: str
) -> None:
    """``updated``: an earlier alert about the incident was sent, so this one references it."""
    expected = tuple(codes_text.split())
    codes = cap_codes(make_incident(state=state, severity=severity, updated=updated), has_references=updated)
    assert (codes.msg_type, codes.urgency, codes.severity, codes.certainty, codes.response_type) == expected
    incident = make_incident(state=state, severity=severity, updated=updated)
    earlier = [CapReference("hwarang-hub", f"{incident.id}.0", incident.created_at)] if updated else []
    xml = incident_to_cap(incident, references=earlier)
    assert _one(xml, "cap:msgType") == expected[0]
    assert _one(xml, "cap:info/cap:urgency") == expected[1]
    assert _one(xml, "cap:info/cap:certainty") == expected[3]


def test_references_and_times() -> None:
    earlier = CapReference("hwarang-hub", "abc.1", datetime(2025, 8, 18, 14, 0, tzinfo=UTC))
    xml = incident_to_cap(make_incident(updated=True), references=[earlier], tz=UTC)
    assert _one(xml, "cap:references") == "hwarang-hub,abc.1,2025-08-18T14:00:00-00:00"
    assert _one(xml, "cap:sent") == "2025-08-18T14:01:30-00:00"
    validate_cap_schema(xml)
    assert cap_time(datetime(2025, 1, 2, 3, 4, 5, 999, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2025-01-02T17:04:05+09:00"
    )
    with pytest.raises(CapError, match="naive"):
        cap_time(datetime(2025, 1, 1))


@pytest.mark.parametrize("sender", ["two words", "a,b", "", "x<y"])
def test_bad_sender_is_refused(sender: str) -> None:
    with pytest.raises(CapError, match="sender"):
        incident_to_cap(make_incident(), sender=sender)


def test_korean_names_come_from_the_catalog() -> None:
    assert catalog_region_name("11") == "서울특별시"
    assert catalog_region_name("11140") == "중구"
    assert catalog_region_name("99999") is None


@VALIDATORS
@pytest.mark.parametrize("path", OASIS_EXAMPLES, ids=lambda p: p.stem)
def test_published_examples_are_accepted(validate: Validator, path: Path) -> None:
    assert len(OASIS_EXAMPLES) >= 3
    validate(path.read_bytes())


def _broken(path: Path, pattern: str, replacement: str) -> bytes:
    text = path.read_text(encoding="utf-8")
    changed, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, f"{pattern!r} not in {path.name}"
    return changed.encode()


BROKEN = {
    "missing-sender": (r"<sender>[^<]*</sender>", "", "sender"),
    "unknown-cap-namespace": (r"cap:1\.2", "cap:1.9", "namespace|alert"),
    "bad-status": (r"<status>Actual</status>", "<status>Real</status>", "status|Real"),
    "out-of-order": (
        r"(<sender>[^<]*</sender>)(\s*)(<sent>[^<]*</sent>)",
        r"\3\2\1",
        "sender|sent|order|Expected",
    ),
    "sent-with-Z": (r"<sent>([^<]*)-07:00</sent>", r"<sent>\1Z</sent>", "sent|date-time|pattern"),
    "foreign-element": (r"</scope>", "</scope><x xmlns='urn:other'>1</x>", "x|urn:other"),
    "missing-urgency": (r"<urgency>[^<]*</urgency>", "", "urgency"),
}


@VALIDATORS
@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("path", OASIS_EXAMPLES[:2], ids=lambda p: p.stem)
def test_broken_variants_are_rejected(validate: Validator, name: str, path: Path) -> None:
    pattern, replacement, message = BROKEN[name]
    with pytest.raises(CapError, match=message):
        validate(_broken(path, pattern, replacement))


@pytest.mark.parametrize(
    ("pattern", "replacement", "message"),
    [
        (r"<polygon>([^<]*) 38\.47,-120\.14</polygon>", r"<polygon>\1</polygon>", "closed ring"),
        (r"<identifier>KSTO1055887203</identifier>", "<identifier>KSTO 105</identifier>", "identifier"),
        (r"<circle>[^<]*</circle>", "<circle>32.9525,-115.5527</circle>", "circle"),
    ],
)
def test_structural_validator_adds_the_specification_text_rules(
    pattern: str, replacement: str, message: str
) -> None:
    path = OASIS_EXAMPLES[0] if "polygon" in pattern or "identifier" in pattern else OASIS_EXAMPLES[1]
    with pytest.raises(CapError, match=message):
        validate_cap(_broken(path, pattern, replacement))


def test_not_xml_and_wrong_root_are_rejected() -> None:
    with pytest.raises(CapError, match="well-formed"):
        validate_cap(b"<alert")
    with pytest.raises(CapError, match="root element"):
        validate_cap(f'<event xmlns="{CAP_NS}"/>'.encode())


def test_object_classes_name_the_event() -> None:
    xml = incident_to_cap(make_incident(object_class=ObjectClass.BOAT))
    assert _one(xml, "cap:info/cap:event") == "구역 침입 (선박)"
