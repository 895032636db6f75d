"""Text a store can hold: no NUL bytes or other control characters.

PostgreSQL refuses NUL in text columns and control characters break logs, XML (CAP, CoT) and
terminals, so boundary models refuse them at validation with the position of the first one.
"""

import re
from typing import Annotated

from pydantic import AfterValidator

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_LINE = re.compile(r"[\x00-\x1f\x7f]")


def refuse_control_chars(value: str, *, allow_newlines: bool = False) -> str:
    """``value`` unchanged; ValueError naming the first control character and its position."""
    found = (_CONTROL if allow_newlines else _CONTROL_OR_LINE).search(value)
    if found is not None:
        char = found.group()
        raise ValueError(
            f"contains control character U+{ord(char):04X} at position {found.start()}; "
            "a store cannot hold it (remove NUL bytes and control characters)"
        )
    return value


def _single_line(value: str) -> str:
    return refuse_control_chars(value)


StoreText = Annotated[str, AfterValidator(_single_line)]
"""A single-line string without NUL bytes or control characters."""
