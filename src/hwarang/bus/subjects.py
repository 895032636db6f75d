"""Subject names. Tokens are region codes and slugs, so they never contain dots or wildcards."""

import re

from hwarang.bus.base import BusError

EVENTS_PREFIX = "hwarang.events"
EVENTS_ALL = f"{EVENTS_PREFIX}.>"
DEAD_LETTER_PREFIX = "hwarang.deadletter"
DEAD_LETTER_ALL = f"{DEAD_LETTER_PREFIX}.>"
INCIDENTS_PREFIX = "hwarang.incidents"
INCIDENTS_ALL = f"{INCIDENTS_PREFIX}.>"
COMMANDS_PREFIX = "hwarang.commands"
COMMANDS_ALL = f"{COMMANDS_PREFIX}.>"
ACKS_PREFIX = "hwarang.acks"
ACKS_ALL = f"{ACKS_PREFIX}.>"
SHARE_PREFIX = "hwarang.share"
DRONES_PREFIX = "hwarang.drones"
DRONES_ALL = f"{DRONES_PREFIX}.>"
CLIPS_PREFIX = "hwarang.clips"
CLIPS_ALL = f"{CLIPS_PREFIX}.>"
LIVE_PREFIX = "hwarang.live"
LIVE_ALL = f"{LIVE_PREFIX}.>"
LIVE_LEASE_PREFIX = f"{LIVE_PREFIX}.lease"
LIVE_VIDEO_PREFIX = f"{LIVE_PREFIX}.video"

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def check_token(name: str, value: str) -> str:
    """``value`` if it is a valid subject token (letters, digits, '-' or '_'), else BusError."""
    if not _TOKEN.match(value):
        raise BusError(f"invalid subject token {name}={value!r}: use letters, digits, '-' or '_'")
    return value


def event_subject(sido_code: str, sigungu_code: str, center_id: str) -> str:
    """``hwarang.events.<sido>.<local-gov>.<center>``."""
    parts = (
        check_token("sido", sido_code),
        check_token("sigungu", sigungu_code),
        check_token("center", center_id),
    )
    return ".".join((EVENTS_PREFIX, *parts))


def clip_subject(sido_code: str, sigungu_code: str, center_id: str) -> str:
    """Event clips of one center, in chunks: ``hwarang.clips.<sido>.<local-gov>.<center>``."""
    parts = (
        check_token("sido", sido_code),
        check_token("sigungu", sigungu_code),
        check_token("center", center_id),
    )
    return ".".join((CLIPS_PREFIX, *parts))


def dead_letter_subject(reason: str) -> str:
    """Where messages that failed validation are kept: ``hwarang.deadletter.<reason>``."""
    return f"{DEAD_LETTER_PREFIX}.{check_token('reason', reason)}"


def incident_subject(sido_code: str, sigungu_code: str, incident_id: str) -> str:
    """Incident updates from the hub: ``hwarang.incidents.<sido>.<local-gov>.<incident>``."""
    parts = (
        check_token("sido", sido_code),
        check_token("sigungu", sigungu_code),
        check_token("incident", incident_id),
    )
    return ".".join((INCIDENTS_PREFIX, *parts))


def command_subject(center_id: str, name: str) -> str:
    """Commands from the hub back to one center's edge: ``hwarang.commands.<center>.<name>``."""
    return f"{COMMANDS_PREFIX}.{check_token('center', center_id)}.{check_token('command', name)}"


def center_commands(center_id: str) -> str:
    """The filter for every command to one center: ``hwarang.commands.<center>.>``."""
    return f"{COMMANDS_PREFIX}.{check_token('center', center_id)}.>"


def ack_subject(center_id: str) -> str:
    """An edge's answers to the hub's commands: ``hwarang.acks.<center>``."""
    return f"{ACKS_PREFIX}.{check_token('center', center_id)}"


def picture_subject(center_id: str) -> str:
    """Camera pictures an edge sends when the hub asks: ``hwarang.acks.<center>.picture``."""
    return f"{ack_subject(center_id)}.picture"


def share_subject(agency: str, kind: str) -> str:
    """What the hub shares with one agency: ``hwarang.share.<agency>.<kind>`` (need-to-know)."""
    return f"{SHARE_PREFIX}.{check_token('agency', agency)}.{check_token('kind', kind)}"


def drone_subject(source: str, track_id: str) -> str:
    """Drone and robot reports: ``hwarang.drones.<source>.<track>``.

    A track id (a Remote ID serial may hold any printable character) keeps letters, digits, '-' and
    '_'; every other character becomes '_'.
    """
    token = re.sub(r"[^A-Za-z0-9_-]", "_", track_id) or "_"
    return f"{DRONES_PREFIX}.{check_token('source', source)}.{token}"


def subject_matches(subject_filter: str, subject: str) -> bool:
    """NATS wildcard matching: ``*`` one token, ``>`` one or more trailing tokens."""
    f_tokens = subject_filter.split(".")
    s_tokens = subject.split(".")
    for i, tok in enumerate(f_tokens):
        if tok == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens):
            return False
        if tok != "*" and tok != s_tokens[i]:
            return False
    return len(s_tokens) == len(f_tokens)


def validate_subject(subject: str, *, allow_wildcards: bool) -> str:
    """Reject empty tokens, whitespace, and wildcards where they are not allowed."""
    tokens = subject.split(".")
    for i, tok in enumerate(tokens):
        if not tok or any(c.isspace() for c in tok):
            raise BusError(f"invalid subject {subject!r}: empty or blank token at position {i}")
        if tok in ("*", ">"):
            if not allow_wildcards:
                raise BusError(f"invalid subject {subject!r}: wildcards are not allowed when publishing")
            if tok == ">" and i != len(tokens) - 1:
                raise BusError(f"invalid subject {subject!r}: '>' must be the last token")
    return subject


def center_live_video(center_id: str) -> str:
    """Every live video subject of one center's cameras (what its edge may publish)."""
    return f"{LIVE_VIDEO_PREFIX}.{check_token('center', center_id)}.*"


def center_live_leases(center_id: str) -> str:
    """Every lease subject of one center's cameras (what its edge listens to)."""
    return f"{LIVE_LEASE_PREFIX}.{check_token('center', center_id)}.*"
