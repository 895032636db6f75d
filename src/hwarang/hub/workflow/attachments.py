"""Checks on files attached to incidents: size, media type (declared and sniffed) and a safe name."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from hwarang.hub.workflow.config import WorkflowConfig
from hwarang.hub.workflow.states import WorkflowInputError

__all__ = [
    "AttachmentTooLargeError",
    "CheckedAttachment",
    "UnsupportedAttachmentError",
    "check_attachment",
    "media_type",
    "sanitize_filename",
]

FALLBACK_FILENAME = "attachment"
MAX_FILENAME_CHARS = 200
_MAX_EXTENSION_CHARS = 16
_UNSAFE = re.compile(r"[^\w.\-+() ]+")
_SPACES = re.compile(r"\s+")


class AttachmentTooLargeError(WorkflowInputError):
    """The file exceeds ``attachment_max_bytes`` (HTTP 413)."""


class UnsupportedAttachmentError(WorkflowInputError):
    """The media type is not allowed, or the bytes are not what the media type says (HTTP 415)."""


@dataclass(frozen=True, slots=True)
class CheckedAttachment:
    """An attachment that passed the checks: its safe file name and bare media type."""

    filename: str
    content_type: str


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda d: d.startswith(b"\xff\xd8\xff"),
    "image/png": lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/gif": lambda d: d[:6] in (b"GIF87a", b"GIF89a"),
    "image/webp": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    "video/mp4": lambda d: d[4:8] == b"ftyp",
    "application/pdf": lambda d: d.startswith(b"%PDF-"),
    "text/plain": _is_text,
}
"""How the bytes of a media type begin; a type not listed here is accepted as declared."""


def media_type(content_type: str | None) -> str:
    """``"Image/JPEG; q=1"`` -> ``"image/jpeg"`` (empty when nothing was declared)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def sanitize_filename(name: str | None) -> str:
    """A file name safe to store and to send back in a header: no path, no control or odd characters.

    Letters of any script, digits, spaces and ``. - _ + ( )`` stay; the rest become ``_``; the name
    is at most :data:`MAX_FILENAME_CHARS` characters, keeping its extension; never empty.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = _SPACES.sub(" ", _UNSAFE.sub("_", text)).strip(" .")
    if not text.strip("_"):
        return FALLBACK_FILENAME
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= _MAX_EXTENSION_CHARS:
            text = stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            text = text[:MAX_FILENAME_CHARS].rstrip(" .")
    return text


def check_attachment(
    data: bytes, filename: str | None, content_type: str | None, config: WorkflowConfig
) -> CheckedAttachment:
    """Refuse an empty or oversized file, a media type outside the allowlist, or bytes that do not
    match their declared type; return the safe name and bare media type otherwise."""
    if not data:
        raise WorkflowInputError(f"attachment {filename!r} is empty")
    if len(data) > config.attachment_max_bytes:
        raise AttachmentTooLargeError(
            f"attachment {filename!r} has {len(data)} bytes or more; at most "
            f"{config.attachment_max_bytes} are accepted"
        )
    kind = media_type(content_type)
    if kind not in config.attachment_content_types:
        allowed = ", ".join(config.attachment_content_types)
        raise UnsupportedAttachmentError(
            f"attachment {filename!r} has media type {kind or 'none'!r}; allowed: {allowed}"
        )
    sniff = _SIGNATURES.get(kind)
    if sniff is not None and not sniff(data):
        raise UnsupportedAttachmentError(f"attachment {filename!r} is declared {kind} but its bytes are not")
    return CheckedAttachment(sanitize_filename(filename), kind)
