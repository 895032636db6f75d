"""Read Cursor-on-Target from TAK clients: XML events and TAK protocol v1 (stream and mesh framing).

Every event becomes a validated :class:`CotReport` or raises :class:`CotError` naming the field and
what is wrong, with the same rules as other input: bounded sizes, no control characters, latitude
and longitude in range, times with a zone. :func:`split_stream` cuts a TCP byte stream into events
(XML up to ``</event>``, protobuf by its ``0xbf`` varint length) so a server can read clients in
either mode.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from takproto.proto import TakMessage

from hwarang.interop.errors import CotError

MAX_EVENT_BYTES = 64 * 1024
"""Largest event accepted (XML or protobuf); a larger one is refused, never buffered on."""
MAGIC = 0xBF
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TYPE = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9.]+)*$")
_EVENT_END = b"</event>"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNKNOWN_METRES = 9999999.0

CotKind = Literal["position", "marker", "control", "other"]


def _clean(value: str, name: str, limit: int) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"{name} contains control characters")
    if len(value) > limit:
        raise ValueError(f"{name} is {len(value)} characters, at most {limit}")
    return value


class CotReport(BaseModel):
    """One CoT event as Hwarang reads it (a TAK client's position, a marker, or a control message)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: Literal[1] = 1
    uid: str = Field(min_length=1, max_length=128, description="CoT uid (the sender's or marker's id)")
    type: str = Field(min_length=1, max_length=64, description="CoT type, e.g. a-f-G-U-C")
    how: str = Field(default="", max_length=16, description="CoT how, e.g. m-g (machine, GPS)")
    time: datetime
    start: datetime
    stale: datetime
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    hae_m: float | None = Field(default=None, ge=-12_000.0, le=100_000.0)
    ce_m: float | None = Field(default=None, ge=0.0)
    callsign: str | None = Field(default=None, max_length=64)
    remarks: str | None = Field(default=None, max_length=1024)
    sender_uid: str | None = Field(default=None, max_length=128, description="link@uid: who placed a marker")

    @field_validator("uid", "how", "callsign", "remarks", "sender_uid")
    @classmethod
    def _no_control(cls, value: str | None) -> str | None:
        return None if value is None else _clean(value, "text", 1024)

    @field_validator("type")
    @classmethod
    def _cot_type(cls, value: str) -> str:
        if not _TYPE.match(value):
            raise ValueError(f"{value!r} is not a CoT type like a-f-G-U-C")
        return value

    @field_validator("time", "start", "stale")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("CoT times need a time zone")
        return value.astimezone(UTC)

    @property
    def kind(self) -> CotKind:
        """``position`` (an atom: a unit reporting itself), ``marker`` (a placed point), ``control``."""
        if self.type.startswith("t-"):
            return "control"
        if self.type.startswith("a-") and self.sender_uid is None:
            return "position"
        if self.type.startswith(("a-", "b-m-p", "u-d")):
            return "marker"
        return "other"

    @property
    def affiliation(self) -> str | None:
        """MIL-STD-2525 affiliation of an atom (``f`` friend, ``h`` hostile, ...), else None."""
        parts = self.type.split("-")
        return parts[1] if parts[0] == "a" and len(parts) > 1 else None


def _time(text: str | None, name: str) -> datetime:
    if not text:
        raise CotError(f"CoT event: {name} is missing")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CotError(f"CoT event: {name} {text[:40]!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise CotError(f"CoT event: {name} {text[:40]!r} has no time zone")
    return value


def _number(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise CotError(f"CoT event: {name} {text[:40]!r} is not a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise CotError(f"CoT event: {name} is not finite")
    return None if value >= UNKNOWN_METRES else value


def _report(fields: dict[str, object]) -> CotReport:
    try:
        return CotReport.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CotError(f"CoT event {str(fields.get('uid'))[:64]!r}: {where}: {first['msg']}") from exc


def read_cot_xml(data: bytes) -> CotReport:
    """One CoT XML ``<event>`` (with or without declaration)."""
    if len(data) > MAX_EVENT_BYTES:
        raise CotError(f"CoT event is {len(data)} bytes, at most {MAX_EVENT_BYTES}")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data.strip(), parser)
    except etree.XMLSyntaxError as exc:
        raise CotError(f"CoT event is not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise CotError("CoT event: a DOCTYPE is not allowed")
    if root.tag != "event":
        raise CotError(f"CoT: root element is <{root.tag}>, expected <event>")
    point = root.find("point")
    if point is None:
        raise CotError(f"CoT event {root.get('uid', '')[:64]!r}: <point> is missing")
    contact, remarks, link = (
        root.find("detail/contact"),
        root.find("detail/remarks"),
        root.find("detail/link"),
    )
    return _report(
        {
            "uid": root.get("uid", ""),
            "type": root.get("type", ""),
            "how": root.get("how", ""),
            "time": _time(root.get("time"), "time"),
            "start": _time(root.get("start") or root.get("time"), "start"),
            "stale": _time(root.get("stale"), "stale"),
            "lat": _number(point.get("lat"), "point lat"),
            "lon": _number(point.get("lon"), "point lon"),
            "hae_m": _number(point.get("hae"), "point hae"),
            "ce_m": _number(point.get("ce"), "point ce"),
            "callsign": None if contact is None else contact.get("callsign"),
            "remarks": None if remarks is None else (remarks.text or ""),
            "sender_uid": None if link is None or link.get("relation") != "p-p" else link.get("uid"),
        }
    )


def read_tak_message(message: TakMessage) -> CotReport:
    """A decoded TAK protocol v1 ``TakMessage``."""
    cot = message.cotEvent
    remarks = link_uid = None
    if cot.detail.xmlDetail:
        if len(cot.detail.xmlDetail) > MAX_EVENT_BYTES:
            raise CotError("CoT event: xmlDetail is too large")
        try:
            detail = etree.fromstring(
                f"<detail>{cot.detail.xmlDetail}</detail>".encode(),
                etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False),
            )
        except etree.XMLSyntaxError as exc:
            raise CotError(f"CoT event {cot.uid[:64]!r}: xmlDetail is not well-formed: {exc}") from exc
        found, link = detail.find("remarks"), detail.find("link")
        remarks = None if found is None else (found.text or "")
        link_uid = link.get("uid") if link is not None and link.get("relation") == "p-p" else None
    return _report(
        {
            "uid": cot.uid,
            "type": cot.type,
            "how": cot.how,
            "time": _EPOCH + timedelta(milliseconds=cot.sendTime),
            "start": _EPOCH + timedelta(milliseconds=cot.startTime),
            "stale": _EPOCH + timedelta(milliseconds=cot.staleTime),
            "lat": _number(str(cot.lat), "lat"),
            "lon": _number(str(cot.lon), "lon"),
            "hae_m": _number(str(cot.hae), "hae"),
            "ce_m": _number(str(cot.ce), "ce"),
            "callsign": cot.detail.contact.callsign or None,
            "remarks": remarks,
            "sender_uid": link_uid,
        }
    )


def _varint(data: bytes, offset: int) -> tuple[int, int] | None:
    value = shift = 0
    while offset < len(data):
        byte = data[offset]
        value |= (byte & 0x7F) << shift
        offset += 1
        if not byte & 0x80:
            return value, offset
        shift += 7
        if shift > 35:
            raise CotError("TAK protobuf frame: length varint is too long")
    return None


def _parse_protobuf(payload: bytes) -> TakMessage:
    message = TakMessage()
    try:
        message.ParseFromString(payload)
    except Exception as exc:  # protobuf raises DecodeError and, on some input, RuntimeWarning-like errors
        raise CotError(f"TAK protobuf message does not decode: {exc}") from exc
    return message


def read_tak_protobuf(data: bytes) -> CotReport:
    """One TAK protocol v1 message in stream (``0xbf`` varint length) or mesh (``0xbf 01 0xbf``) framing."""
    if len(data) > MAX_EVENT_BYTES + 8:
        raise CotError(f"TAK protobuf message is {len(data)} bytes, at most {MAX_EVENT_BYTES}")
    if data[:3] == bytes([MAGIC, 0x01, MAGIC]):
        return read_tak_message(_parse_protobuf(data[3:]))
    if data[:1] != bytes([MAGIC]):
        raise CotError("TAK protobuf message does not start with 0xbf")
    length = _varint(data, 1)
    if length is None or length[1] + length[0] != len(data):
        raise CotError("TAK protobuf stream frame: the length does not match the data")
    return read_tak_message(_parse_protobuf(data[length[1] :]))


def read_cot(data: bytes) -> CotReport:
    """An event in any of the three forms (XML, protobuf stream, protobuf mesh)."""
    stripped = data.lstrip()
    return read_tak_protobuf(stripped) if stripped[:1] == bytes([MAGIC]) else read_cot_xml(stripped)


def split_xml(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete XML events in ``buffer`` and the unfinished rest."""
    *events, rest = buffer.split(_EVENT_END)
    return [event + _EVENT_END for event in events], rest


def split_protobuf(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete ``0xbf``-framed messages in ``buffer`` and the unfinished rest.

    Raises :class:`CotError` on a frame that does not start with ``0xbf`` or announces more than
    :data:`MAX_EVENT_BYTES` (the stream cannot be resynchronised; close the connection).
    """
    frames = []
    offset = 0
    while offset < len(buffer):
        if buffer[offset] != MAGIC:
            raise CotError(f"TAK protobuf stream: byte {buffer[offset]:#04x} where a 0xbf frame starts")
        length = _varint(buffer, offset + 1)
        if length is None:
            break
        size, start = length
        if size > MAX_EVENT_BYTES:
            raise CotError(f"TAK protobuf stream: a {size}-byte frame is over the {MAX_EVENT_BYTES} limit")
        if start + size > len(buffer):
            break
        frames.append(buffer[offset : start + size])
        offset = start + size
    return frames, buffer[offset:]
