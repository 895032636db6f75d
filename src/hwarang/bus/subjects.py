"""Subject names. Tokens are region codes and slugs, so they never contain dots or wildcards."""

import re

from hwarang.bus.base import BusError

EVENTS_PREFIX = "hwarang.events"
EVENTS_ALL = f"{EVENTS_PREFIX}.>"
DEAD_LETTER_PREFIX = "hwarang.deadletter"

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def _check_token(name: str, value: str) -> str:
    if not _TOKEN.match(value):
        raise BusError(f"invalid subject token {name}={value!r}: use letters, digits, '-' or '_'")
    return value


def event_subject(sido_code: str, sigungu_code: str, center_id: str) -> str:
    """``hwarang.events.<sido>.<local-gov>.<center>``."""
    parts = (
        _check_token("sido", sido_code),
        _check_token("sigungu", sigungu_code),
        _check_token("center", center_id),
    )
    return ".".join((EVENTS_PREFIX, *parts))


def dead_letter_subject(reason: str) -> str:
    """Where messages that failed validation are kept: ``hwarang.deadletter.<reason>``."""
    return f"{DEAD_LETTER_PREFIX}.{_check_token('reason', reason)}"


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
