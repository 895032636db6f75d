"""The Google Public Alerts CAP profile's required elements (as google/cap-library checks them).

On top of a valid CAP alert: ``Update`` and ``Cancel`` reference earlier alerts; at least one
``info``; every ``info`` has a ``description``, ``web``, ``expires`` (not before ``effective`` or
``sent``), urgency, severity, certainty and at least one ``area``, each with a circle, polygon or
geocode; all ``info`` blocks share categories and event codes.
"""

from datetime import datetime

from lxml import etree

from hwarang.interop.errors import CapError


def _text(parent: etree._Element, ns: str, name: str) -> str:
    found = parent.find(f"{{{ns}}}{name}")
    return "" if found is None else (found.text or "").strip()


def _codes(info: etree._Element, ns: str) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    categories = frozenset((c.text or "").strip() for c in info.iterfind(f"{{{ns}}}category"))
    event_codes = frozenset(
        (_text(code, ns, "valueName"), _text(code, ns, "value"))
        for code in info.iterfind(f"{{{ns}}}eventCode")
    )
    return categories, event_codes


def google_profile_problems(xml: bytes) -> list[str]:
    """What the Google profile finds wrong with the (already validated) CAP alert ``xml``."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    ns = etree.QName(root).namespace or ""
    problems: list[str] = []
    if _text(root, ns, "msgType") in ("Update", "Cancel") and not _text(root, ns, "references"):
        problems.append("/alert/msgType: an Update or Cancel must reference the alerts it changes")
    infos = list(root.iterfind(f"{{{ns}}}info"))
    if not infos:
        problems.append("/alert: at least one <info> is required")
    first_codes = _codes(infos[0], ns) if infos else None
    sent = _text(root, ns, "sent")
    for index, info in enumerate(infos, start=1):
        path = f"/alert/info[{index}]"
        for name in ("description", "web", "expires", "urgency", "severity", "certainty"):
            if not _text(info, ns, name):
                problems.append(f"{path}: <{name}> is required")
        expires, effective = _text(info, ns, "expires"), _text(info, ns, "effective") or sent
        if expires and effective and datetime.fromisoformat(effective) > datetime.fromisoformat(expires):
            problems.append(f"{path}/expires: {expires} is before {effective}")
        if _codes(info, ns) != first_codes:
            problems.append(f"{path}: every <info> must have the same categories and event codes")
        areas = list(info.iterfind(f"{{{ns}}}area"))
        if not areas:
            problems.append(f"{path}: at least one <area> is required")
        for number, area in enumerate(areas, start=1):
            if not any(area.find(f"{{{ns}}}{name}") is not None for name in ("circle", "polygon", "geocode")):
                problems.append(f"{path}/area[{number}]: a <circle>, <polygon> or <geocode> is required")
    return problems


def validate_google_profile(xml: bytes) -> None:
    """Raise :class:`CapError` listing every problem unless ``xml`` meets the Google profile."""
    problems = google_profile_problems(xml)
    if problems:
        raise CapError("Google CAP profile: " + "; ".join(problems))
