"""The one password rule, used by every way a password is set: the API, the page, the CLI and
``HWARANG_ADMIN_PASSWORD``."""

import re
import secrets

from hwarang.hub.errors import HubError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidPasswordError(HubError, ValueError):
    """A password that breaks the rule (HTTP 422); the message says which part."""


def check_password(password: str, username: str) -> None:
    """Raise InvalidPasswordError unless ``password`` is 10..256 characters, without control
    characters, not the user name (or it repeated) and not a single repeated character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidPasswordError(
            f"password of {username} must have at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidPasswordError(
            f"password of {username} must have at most {MAX_PASSWORD_LENGTH} characters"
        )
    if _CONTROL.search(password):
        raise InvalidPasswordError(f"password of {username} must not contain control characters")
    if username and not password.casefold().replace(username.casefold(), ""):
        raise InvalidPasswordError(f"password of {username} must not be the user name (repeated)")
    if len(set(password)) == 1:
        raise InvalidPasswordError(f"password of {username} must not repeat one character")


def generate_password() -> str:
    """A random password that passes :func:`check_password` (for resets and the first admin)."""
    return secrets.token_urlsafe(15)
