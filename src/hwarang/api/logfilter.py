"""Keep access tokens out of server logs (the WebSocket URL carries ``?token=``)."""

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"((?:^|[?&])(?:access_)?token=)[^&\s\"']+")
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")


def redact(text: str) -> str:
    """``text`` with every ``token=<value>`` query parameter replaced by ``token=***``."""
    return _TOKEN_IN_QUERY.sub(r"\1***", text)


class TokenRedactingFilter(logging.Filter):
    """Rewrites log records so query-string tokens never reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def install_token_redaction(names: tuple[str, ...] = SERVER_LOGGERS) -> None:
    """Attach one ``TokenRedactingFilter`` to each named logger (idempotent)."""
    for name in names:
        target = logging.getLogger(name)
        if not any(isinstance(existing, TokenRedactingFilter) for existing in target.filters):
            target.addFilter(TokenRedactingFilter())
