"""How a clip travels on the bus: raw MP4 bytes in chunks, described by headers.

Each chunk is one message on ``hwarang.clips.<sido>.<local-gov>.<center>`` with msg id
``clip-<sha256>-<part>`` (so a retry or a replay is stored once) and the headers below; every chunk
carries the clip's manifest, so the receiver can assemble the parts in any order and verify the
whole against its SHA-256. Chunks stay well under NATS's default 1 MiB payload limit.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hwarang.bus.base import BusError

CHUNK_BYTES = 256 * 1024
SHA256_HEADER = "hwarang-clip-sha256"
PART_HEADER = "hwarang-clip-part"
PARTS_HEADER = "hwarang-clip-parts"
MANIFEST_HEADER = "hwarang-clip-manifest"


@dataclass(frozen=True, slots=True)
class ClipChunk:
    """One part of a clip as sent or received."""

    sha256: str
    part: int
    parts: int
    manifest_json: str
    data: bytes

    @property
    def msg_id(self) -> str:
        """The de-duplication id of this chunk."""
        return f"clip-{self.sha256}-{self.part}"

    def headers(self) -> dict[str, str]:
        """The message headers of this chunk."""
        return {
            SHA256_HEADER: self.sha256,
            PART_HEADER: str(self.part),
            PARTS_HEADER: str(self.parts),
            MANIFEST_HEADER: self.manifest_json,
        }


def split_clip(
    sha256: str, data: bytes, manifest_json: str, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[ClipChunk]:
    """The chunks of one clip, in order (at least one)."""
    if chunk_bytes < 1:
        raise BusError(f"chunk size must be positive, got {chunk_bytes}")
    if "\n" in manifest_json or "\r" in manifest_json:
        raise BusError("a clip manifest header must be one line of JSON")
    parts = max(1, -(-len(data) // chunk_bytes))
    for part in range(parts):
        yield ClipChunk(
            sha256, part, parts, manifest_json, data[part * chunk_bytes : (part + 1) * chunk_bytes]
        )


def read_chunk(headers: Mapping[str, str], data: bytes) -> ClipChunk:
    """The chunk in a received message; ``BusError`` naming what is missing or malformed."""
    try:
        sha256 = headers[SHA256_HEADER]
        part = int(headers[PART_HEADER])
        parts = int(headers[PARTS_HEADER])
        manifest = headers[MANIFEST_HEADER]
    except KeyError as exc:
        raise BusError(f"clip chunk without the {exc.args[0]} header") from None
    except ValueError as exc:
        raise BusError(f"clip chunk with a malformed part number: {exc}") from None
    if not 0 <= part < parts or parts > 100_000:
        raise BusError(f"clip chunk part {part} of {parts} is out of range")
    return ClipChunk(sha256, part, parts, manifest, data)
