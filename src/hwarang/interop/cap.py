"""CAP 1.2 (OASIS Common Alerting Protocol) alerts for incidents.

One alert per incident state: ``identifier`` is ``<incident id>.<seq>``, and every alert about the
same incident names it in ``<incidents>`` so receivers can group them. The mapping of severity and
workflow state to CAP's urgency, severity, certainty and response type is in ``cap_codes`` and
docs/interop.md. The first alert Hwarang sends about an incident is an ``Alert``; every later one
references all earlier ones (``<references>``, from the record of sent alerts in
:mod:`hwarang.interop.cap_sent`) and is an ``Update``, or a ``Cancel`` once the incident is a false
alarm. Resolved incidents are an ``Update`` with urgency ``Past`` and response ``AllClear``.
``<expires>`` comes from the :class:`CapPolicy` (per severity; closed incidents briefly),
``<web>`` is the incident's page on the hub. Validate the output with
:mod:`hwarang.interop.cap_validate` (and :mod:`hwarang.interop.cap_profile` for Google's profile).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from urllib.parse import quote, urlsplit

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


def _default_validity() -> dict[Severity, float]:
    return {
        Severity.CRITICAL: 3600.0,
        Severity.HIGH: 2 * 3600.0,
        Severity.MEDIUM: 6 * 3600.0,
        Severity.LOW: 12 * 3600.0,
    }


@dataclass(frozen=True, slots=True)
class CapPolicy:
    """How long an incident's alert stays in force: ``<expires>`` is ``sent`` plus this.

    Open incidents: ``valid_s`` by severity (a critical incident must be re-confirmed by a newer
    alert within the hour); closed ones (resolved, false alarm): ``closed_valid_s``, long enough for
    every receiver to take the all-clear or cancel.
    """

    valid_s: Mapping[Severity, float] = field(default_factory=_default_validity)
    closed_valid_s: float = 3600.0

    def expires(self, incident: Incident, sent: datetime) -> datetime:
        """When the alert about ``incident`` sent at ``sent`` stops being in force."""
        seconds = self.closed_valid_s if incident.state in CLOSED_STATES else self.valid_s[incident.severity]
        if not seconds > 0.0:
            raise CapError(f"CAP validity for {incident.severity.value} must be > 0 s, got {seconds!r}")
        return sent + timedelta(seconds=seconds)


DEFAULT_POLICY = CapPolicy()


def incident_web_url(base_url: str, incident_id: object) -> str:
    """The incident's page on the hub: ``<base_url>/?incident=<id>`` (``base_url`` must be absolute)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CapError(f"the hub's base URL must be absolute http(s), got {base_url!r}")
    return f"{base_url.rstrip('/')}/?incident={quote(str(incident_id))}"


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


def cap_codes(incident: Incident, *, has_references: bool = False) -> CapCodes:
    """Message type, urgency, severity, certainty and response type of ``incident``'s alert.

    Without earlier alerts to reference the message is an ``Alert``; with them an ``Update``, or a
    ``Cancel`` for a false alarm.
    """
    closed = incident.state in CLOSED_STATES
    if not has_references:
        msg_type = "Alert"
    else:
        msg_type = "Cancel" if incident.state is IncidentState.FALSE_ALARM else "Update"
    return CapCodes(
        msg_type=msg_type,
        urgency="Past" if closed else _URGENCY[incident.severity],
        severity=_SEVERITY[incident.severity],
        certainty=_CERTAINTY[incident.state],
        response_type="AllClear" if closed else "Monitor",
    )


def cap_identifier(incident: Incident) -> str:
    """The alert identifier: incident id and change sequence number, e.g. ``<uuid>.42``."""
    return f"{incident.id}.{incident.seq}"


def check_token(name: str, value: str) -> None:
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


def _earlier(references: Sequence[CapReference], identifier: str, sent: str, tz: tzinfo) -> list[str]:
    """The ``sender,identifier,sent`` triples of earlier ``references``, each once, oldest first."""
    limit = datetime.fromisoformat(sent)
    seen: set[tuple[str, str]] = set()
    triples = []
    for ref in sorted(references, key=lambda r: r.sent):
        key = (ref.sender, ref.identifier)
        if ref.identifier == identifier or key in seen or ref.sent.replace(microsecond=0) > limit:
            continue
        seen.add(key)
        triples.append(f"{ref.sender},{ref.identifier},{cap_time(ref.sent, tz)}")
    return triples


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
    policy: CapPolicy = DEFAULT_POLICY,
    web_base_url: str | None = None,
) -> bytes:
    """``incident`` as a CAP 1.2 alert (UTF-8 XML with declaration).

    ``sent`` defaults to the incident's last change; times are written in ``tz`` (KST by default).
    ``references`` are the alerts sent about the incident before (see :mod:`hwarang.interop.cap_sent`);
    this alert itself and any sent later are left out. ``policy`` gives ``<expires>``;
    ``web_base_url`` (the hub's absolute URL) gives ``<web>``, the incident's page.
    The area is the incident's sigungu (``region_names`` adds Korean names) plus, when the position
    is known, a circle of ``radius_km`` around it.
    """
    check_token("sender", sender)
    identifier = cap_identifier(incident)
    sent_at = sent or incident.updated_at
    for ref in references:
        check_token("reference sender", ref.sender)
        check_token("reference identifier", ref.identifier)
    earlier = _earlier(references, identifier, cap_time(sent_at, tz), tz)
    if not radius_km >= 0.0:
        raise CapError(f"radius_km must be >= 0, got {radius_km!r}")
    codes = cap_codes(incident, has_references=bool(earlier))
    alert = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(alert, "identifier", identifier)
    _sub(alert, "sender", sender)
    _sub(alert, "sent", cap_time(sent_at, tz))
    _sub(alert, "status", "Exercise" if incident.exercise else "Actual")
    _sub(alert, "msgType", codes.msg_type)
    _sub(alert, "source", f"camera {incident.camera_id}")
    if incident.classification is Classification.UNCLASSIFIED:
        _sub(alert, "scope", "Public")
    else:
        _sub(alert, "scope", "Restricted")
        _sub(alert, "restriction", _restriction(incident.classification))
    if earlier:
        _sub(alert, "references", " ".join(earlier))
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
    _sub(info, "expires", cap_time(policy.expires(incident, sent_at), tz))
    _sub(info, "senderName", sender_name)
    _sub(info, "headline", incident.title)
    _sub(info, "description", _description(incident, tz))
    if web_base_url is not None:
        _sub(info, "web", incident_web_url(web_base_url, incident.id))
    _parameters(info, incident)

    area = _sub(info, "area")
    _sub(area, "areaDesc", _area_desc(incident, region_names))
    if incident.geo is not None:
        _sub(area, "circle", f"{incident.geo.lat:.6f},{incident.geo.lon:.6f} {radius_km:g}")
    _pair(area, "geocode", GEOCODE_VALUE_NAME, incident.sigungu_code)
    result: bytes = etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return result
