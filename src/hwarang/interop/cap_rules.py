"""CAP rules the XML schema cannot express, as strict as google/cap-library's validator.

Run on an alert whose structure is already valid (:func:`hwarang.interop.cap_validate.validate_cap`
does both): each rule raises :class:`CapError` naming the element, its line and what is wrong.
The rules: ``restriction`` only with scope ``Restricted``; ``references`` a non-empty list of
``sender,identifier,sent`` triples, none naming this alert (circular) or sent after it (postdated);
``language`` an RFC 3066 tag (``en-US``, not ``en_US``); ``web`` an absolute URI; polygons of
valid coordinates, closed, with four or more points and no self-intersection; circles with valid
coordinates; ``ceiling`` only with ``altitude`` and not below it; a resource's ``mimeType`` of a
registered top-level type, its ``uri`` absolute unless ``derefUri`` carries the content, and
``derefUri`` valid base64.
"""

import base64
import binascii
import re
from datetime import datetime
from urllib.parse import urlsplit

from lxml import etree
from shapely.geometry import LineString

from hwarang.interop.errors import CapError

_RFC3066 = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_MIME = re.compile(r"^([a-zA-Z0-9!#$&^_.+-]+)/[a-zA-Z0-9!#$&^_.+-]+(\s*;.*)?$")
_MIME_TOP_TYPES = frozenset(
    {"application", "audio", "font", "image", "message", "model", "multipart", "text", "video"}
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*$")
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[-+]\d\d:\d\d$")


def _fail(element: etree._Element, path: str, problem: str) -> CapError:
    return CapError(f"{path} (line {element.sourceline}): {problem}")


def _children(parent: etree._Element, ns: str, name: str) -> list[etree._Element]:
    return list(parent.iterfind(f"{{{ns}}}{name}"))


def _text(parent: etree._Element, ns: str, name: str) -> str | None:
    found = parent.find(f"{{{ns}}}{name}")
    return None if found is None else (found.text or "").strip()


def check_rules(alert: etree._Element, ns: str) -> None:
    """Raise :class:`CapError` at the first rule ``alert`` (a structurally valid CAP alert) breaks."""
    restriction = alert.find(f"{{{ns}}}restriction")
    if (
        restriction is not None
        and (restriction.text or "").strip()
        and _text(alert, ns, "scope") != "Restricted"
    ):
        raise _fail(restriction, "/alert/restriction", "<restriction> is only allowed with <scope>Restricted")
    references = alert.find(f"{{{ns}}}references")
    if references is not None:
        _check_references(references, _text(alert, ns, "identifier") or "", _text(alert, ns, "sent") or "")
    for index, info in enumerate(_children(alert, ns, "info"), start=1):
        _check_info(info, ns, f"/alert/info[{index}]")


def _check_references(element: etree._Element, identifier: str, sent: str) -> None:
    path = "/alert/references"
    triples = (element.text or "").split()
    if not triples:
        raise _fail(
            element, path, "<references> is empty; give space-separated sender,identifier,sent triples"
        )
    alert_sent = datetime.fromisoformat(sent)
    for triple in triples:
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts) or not _DATETIME.match(parts[2]):
            raise _fail(element, path, f"{triple!r} is not a sender,identifier,sent triple")
        if parts[1] == identifier:
            raise _fail(element, path, f"{triple!r} refers to this alert itself (circular reference)")
        if datetime.fromisoformat(parts[2]) > alert_sent:
            raise _fail(element, path, f"{triple!r} was sent after this alert ({sent}): postdated reference")


def _check_info(info: etree._Element, ns: str, path: str) -> None:
    language = info.find(f"{{{ns}}}language")
    if language is not None:
        text = (language.text or "").strip()
        if text and not _RFC3066.match(text):
            raise _fail(language, f"{path}/language", f"{text!r} is not an RFC 3066 language tag like ko-KR")
    web = info.find(f"{{{ns}}}web")
    if web is not None and not _absolute_uri(web.text or ""):
        raise _fail(web, f"{path}/web", f"{web.text!r} is not an absolute URI")
    for index, resource in enumerate(_children(info, ns, "resource"), start=1):
        _check_resource(resource, ns, f"{path}/resource[{index}]")
    for index, area in enumerate(_children(info, ns, "area"), start=1):
        _check_area(area, ns, f"{path}/area[{index}]")


def _absolute_uri(text: str) -> bool:
    text = text.strip()
    if not text or any(ch.isspace() for ch in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(_SCHEME.match(parts.scheme)) and bool(parts.netloc or parts.path)


def _check_resource(resource: etree._Element, ns: str, path: str) -> None:
    mime = resource.find(f"{{{ns}}}mimeType")
    if mime is not None:
        match = _MIME.match((mime.text or "").strip())
        if match is None or match.group(1).lower() not in _MIME_TOP_TYPES:
            raise _fail(mime, f"{path}/mimeType", f"{mime.text!r} is not a MIME type like image/jpeg")
    deref = resource.find(f"{{{ns}}}derefUri")
    uri = resource.find(f"{{{ns}}}uri")
    if uri is not None:
        text = (uri.text or "").strip()
        if not text or any(ch.isspace() for ch in text):
            raise _fail(uri, f"{path}/uri", f"{uri.text!r} is not a URI")
        if not _absolute_uri(text) and deref is None:
            raise _fail(uri, f"{path}/uri", f"relative URI {text!r} needs <derefUri> with the content")
    if deref is not None:
        try:
            base64.b64decode("".join((deref.text or "").split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _fail(deref, f"{path}/derefUri", f"not valid base64: {exc}") from exc


def _point(text: str) -> tuple[float, float] | None:
    lat_lon = text.split(",")
    if len(lat_lon) != 2:
        return None
    try:
        lat, lon = float(lat_lon[0]), float(lat_lon[1])
    except ValueError:
        return None
    return (lat, lon) if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 else None


def _check_area(area: etree._Element, ns: str, path: str) -> None:
    for index, polygon in enumerate(_children(area, ns, "polygon"), start=1):
        _check_polygon(polygon, f"{path}/polygon[{index}]")
    for index, circle in enumerate(_children(area, ns, "circle"), start=1):
        centre, _, _radius = (circle.text or "").strip().partition(" ")
        if _point(centre) is None:
            raise _fail(circle, f"{path}/circle[{index}]", f"{circle.text!r}: centre is not a WGS 84 lat,lon")
    altitude = area.find(f"{{{ns}}}altitude")
    ceiling = area.find(f"{{{ns}}}ceiling")
    if ceiling is not None:
        if altitude is None:
            raise _fail(ceiling, f"{path}/ceiling", "<ceiling> needs <altitude> in the same <area>")
        if float(altitude.text or "nan") > float(ceiling.text or "nan"):
            raise _fail(
                ceiling, f"{path}/ceiling", f"ceiling {ceiling.text} is below altitude {altitude.text}"
            )


def _check_polygon(polygon: etree._Element, path: str) -> None:
    tokens = (polygon.text or "").split()
    points = [_point(token) for token in tokens]
    if len(points) < 4 or any(point is None for point in points):
        raise _fail(polygon, path, f"{polygon.text!r} is not four or more WGS 84 'lat,lon' points")
    if points[0] != points[-1]:
        raise _fail(polygon, path, "the polygon is not closed (first and last points differ)")
    ring = LineString([(lon, lat) for lat, lon in (p for p in points if p is not None)])
    if not ring.is_simple:
        raise _fail(polygon, path, "the polygon intersects itself")
