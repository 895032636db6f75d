"""What an edge signs for an event: deterministic bytes both ends compute the same way.

The signed payload is a fixed prefix, the event's canonical JSON (keys sorted, no whitespace,
UTF-8) and the snapshot's SHA-256 (empty when the event has none). The hub computes it from the
JSON it received, not from a re-serialised model, so forwarding hub to hub never changes it.
"""

import json
from collections.abc import Mapping
from typing import Any

SIGNED_PREFIX = b"hwarang-event-v1\n"


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string per JSON value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_payload(event_json: Mapping[str, Any]) -> bytes:
    """The bytes an edge signs for the event whose JSON object is ``event_json``."""
    snapshot = event_json.get("snapshot")
    digest = snapshot.get("sha256", "") if isinstance(snapshot, Mapping) else ""
    return SIGNED_PREFIX + canonical_json(dict(event_json)) + b"\n" + str(digest).encode("ascii")
