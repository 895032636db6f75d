"""CAP 1.2 (OASIS Common Alerting Protocol) alerts for incidents.

One alert per incident state: ``identifier`` is ``<incident id>.<seq>``, and every alert about the
same incident names it in ``<incidents>`` so receivers can group them. The mapping of severity and
workflow state to CAP's urgency, severity, certainty and response type is in ``cap_codes`` and
docs/interop.md. Resolved and false-alarm incidents are sent as ``Update`` with urgency ``Past``
and response ``AllClear`` (certainty ``Unlikely`` for a false alarm) rather than ``Cancel``: CAP's
Cancel withdraws specific earlier messages named in ``<references>``, which a pull export cannot
know. Validate the output with :mod:`hwarang.interop.cap_validate`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from lxml import etree

from hwarang.domain import Classification, Incident, IncidentState, Severity
from hwarang.geo import GeoError, default_catalog
from hwarang.interop.errors import CapError
from hwarang.interop.labels import CLASSIFICATION_KO, OBJECT_KO, RULE_KO, SEVERITY_KO, STATE_KO

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
KST = timezone(timedelta(hours=9), "KST")
GEOCODE_VALUE_NAME = "KR-ADM"
"""``<geocode>`` value name of the 5-digit Korean administrative (sigungu) code."""
DEFAULT_SENDER = "hwarang-hub"
LANGUAGE = "ko-KR"

RegionNames = Callable[[str], str | None]
"""Korean name of a sido or sigungu code, or None when unknown (e.g. a ``RegionCatalog`` lookup)."""

_URGENCY = {
    Severity.CRITICAL: "Immediate",
    Severity.HIGH: "Immediate",
    Severity.MEDIUM: "Expected",
    Severity.LOW: "Future",
}
_SEVERITY = {
    Severity.CRITICAL: "Extreme",
    Severity.HIGH: "Severe",
    Severity.MEDIUM: "Moderate",
    Severity.LOW: "Minor",
}
_CERTAINTY = {
    IncidentState.NEW: "Possible",
    IncidentState.ACKNOWLEDGED: "Possible",
    IncidentState.ASSESSING: "Likely",
    IncidentState.RESPONDING: "Observed",
    IncidentState.RESOLVED: "Observed",
    IncidentState.FALSE_ALARM: "Unlikely",
}
CLOSED_STATES = frozenset({IncidentState.RESOLVED, IncidentState.FALSE_ALARM})


@dataclass(frozen=True, slots=True)
class CapCodes:
    """CAP's codes for an incident: message type and the info block's classifiers."""

    msg_type: str
    urgency: str
    severity: str
    certainty: str
    response_type: str


@dataclass(frozen=True, slots=True)
class CapReference:
    """An earlier CAP message this one refers to (``sender,identifier,sent``)."""

    sender: str
    identifier: str
    sent: datetime


def catalog_region_name(code: str) -> str | None:
    """Korean name of a sido or sigungu code from the packaged region catalog (loaded on first use)."""
    try:
        return default_catalog().get(code).name
    except GeoError:
        return None


def cap_time(value: datetime, tz: tzinfo = KST) -> str:
    """A CAP date-time: whole seconds with a numeric offset; UTC is written ``-00:00`` as CAP requires."""
    if value.tzinfo is None:
        raise CapError(f"CAP times need a time zone, got naive {value.isoformat()}")
    text = value.astimezone(tz).replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def cap_codes(incident: Incident) -> CapCodes:
    """Message type, urgency, severity, certainty and response type of ``incident``'s alert."""
    closed = incident.state in CLOSED_STATES
    fresh = incident.created_at == incident.updated_at and not closed
    return CapCodes(
        msg_type="Alert" if fresh else "Update",
        urgency="Past" if closed else _URGENCY[incident.severity],
        severity=_SEVERITY[incident.severity],
        certainty=_CERTAINTY[incident.state],
        response_type="AllClear" if closed else "Monitor",
    )


def cap_identifier(incident: Incident) -> str:
    """The alert identifier: incident id and change sequence number, e.g. ``<uuid>.42``."""
    return f"{incident.id}.{incident.seq}"


def _check_token(name: str, value: str) -> None:
    if not value or any(ch in value for ch in " ,<&\t\r\n"):
        raise CapError(f"CAP {name} must be non-empty without spaces, commas, '<' or '&', got {value!r}")


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def _pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    holder = _sub(parent, name)
    _sub(holder, "valueName", value_name)
    _sub(holder, "value", value)


def _restriction(classification: Classification) -> str:
    label = CLASSIFICATION_KO[classification]
    return (
        f"{classification.value.upper()} ({label}): Hwarang partner agencies with a need to know only; "
        "do not redistribute."
    )


def _description(incident: Incident, tz: tzinfo) -> str:
    lines = [
        f"대상: {OBJECT_KO[incident.object_class]}",
        f"규칙: {RULE_KO[incident.rule]}",
        f"상태: {STATE_KO[incident.state]}",
        f"위험도: {SEVERITY_KO[incident.severity]}",
        f"카메라: {incident.camera_id} (관제센터 {incident.center_id})",
        f"최초 탐지: {cap_time(incident.first_seen, tz)}",
        f"최종 탐지: {cap_time(incident.last_seen, tz)}",
        f"관련 이벤트: {len(incident.event_ids)}건",
    ]
    if incident.exercise:
        lines.insert(0, "[훈련] 화랑훈련 상황입니다.")
    return "\n".join(lines)


def _area_desc(incident: Incident, region_names: RegionNames | None) -> str:
    names = (
        []
        if region_names is None
        else [region_names(incident.sido_code), region_names(incident.sigungu_code)]
    )
    known = [name for name in names if name]
    if not known:
        return f"{GEOCODE_VALUE_NAME} {incident.sigungu_code}"
    return f"{' '.join(known)} ({incident.sigungu_code})"


def _parameters(info: etree._Element, incident: Incident) -> None:
    values = {
        "HWARANG_INCIDENT_ID": str(incident.id),
        "HWARANG_SEQ": str(incident.seq),
        "HWARANG_STATE": incident.state.value,
        "HWARANG_SEVERITY": incident.severity.value,
        "HWARANG_CLASSIFICATION": incident.classification.value,
        "HWARANG_OBJECT_CLASS": incident.object_class.value,
        "HWARANG_RULE": incident.rule.value,
        "HWARANG_CAMERA_ID": incident.camera_id,
    }
    if incident.zone_id is not None:
        values["HWARANG_ZONE_ID"] = str(incident.zone_id)
    for name, value in values.items():
        _pair(info, "parameter", name, value)


def incident_to_cap(
    incident: Incident,
    *,
    sender: str = DEFAULT_SENDER,
    sender_name: str = "Hwarang",
    sent: datetime | None = None,
    tz: tzinfo = KST,
    radius_km: float = 0.1,
    region_names: RegionNames | None = None,
    references: Sequence[CapReference] = (),
) -> bytes:
    """``incident`` as a CAP 1.2 alert (UTF-8 XML with declaration).

    ``sent`` defaults to the incident's last change; times are written in ``tz`` (KST by default).
    The area is the incident's sigungu (``region_names`` adds Korean names) plus, when the position
    is known, a circle of ``radius_km`` around it.
    """
    _check_token("sender", sender)
    for ref in references:
        _check_token("reference sender", ref.sender)
        _check_token("reference identifier", ref.identifier)
    if not radius_km >= 0.0:
        raise CapError(f"radius_km must be >= 0, got {radius_km!r}")
    codes = cap_codes(incident)
    alert = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(alert, "identifier", cap_identifier(incident))
    _sub(alert, "sender", sender)
    _sub(alert, "sent", cap_time(sent or incident.updated_at, tz))
    _sub(alert, "status", "Exercise" if incident.exercise else "Actual")
    _sub(alert, "msgType", codes.msg_type)
    _sub(alert, "source", f"camera {incident.camera_id}")
    if incident.classification is Classification.UNCLASSIFIED:
        _sub(alert, "scope", "Public")
    else:
        _sub(alert, "scope", "Restricted")
        _sub(alert, "restriction", _restriction(incident.classification))
    if references:
        text = " ".join(f"{r.sender},{r.identifier},{cap_time(r.sent, tz)}" for r in references)
        _sub(alert, "references", text)
    _sub(alert, "incidents", str(incident.id))

    info = _sub(alert, "info")
    _sub(info, "language", LANGUAGE)
    _sub(info, "category", "Security")
    _sub(info, "event", f"{RULE_KO[incident.rule]} ({OBJECT_KO[incident.object_class]})")
    _sub(info, "responseType", codes.response_type)
    _sub(info, "urgency", codes.urgency)
    _sub(info, "severity", codes.severity)
    _sub(info, "certainty", codes.certainty)
    _pair(info, "eventCode", "HWARANG_RULE", incident.rule.value)
    _sub(info, "onset", cap_time(incident.first_seen, tz))
    _sub(info, "senderName", sender_name)
    _sub(info, "headline", incident.title)
    _sub(info, "description", _description(incident, tz))
    _parameters(info, incident)

    area = _sub(info, "area")
    _sub(area, "areaDesc", _area_desc(incident, region_names))
    if incident.geo is not None:
        _sub(area, "circle", f"{incident.geo.lat:.6f},{incident.geo.lon:.6f} {radius_km:g}")
    _pair(area, "geocode", GEOCODE_VALUE_NAME, incident.sigungu_code)
    result: bytes = etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return result
