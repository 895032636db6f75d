"""Request input guard: body-size limits before authentication, and inputs no store can take.

Runs before routing, so it holds on every route:

* **Body size.** A request whose bearer token does not verify (or that has none) may send at most
  ``max_unauthenticated_body_bytes``; any request at most ``max_body_bytes``. A declared
  ``Content-Length`` over the limit is refused (413) before a byte is read; a streamed body is
  counted as it arrives and refused as soon as it passes the limit.
* **Control characters.** A NUL or other control character in the path, a query value, a form
  field or a JSON string is refused (422, naming the field); JSON and form values may hold tab,
  line feed and carriage return.
* **Integers.** An integer beyond signed 64 bits in a query value, form field or JSON body is
  refused (422, naming the field); no store column holds one.
"""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

INT64_MAX = 2**63 - 1
_CONTROL_STRICT = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"^[+-]?\d+$")

TokenCheck = Callable[[str], bool]
"""True when a bearer token verifies (signature and expiry; no database lookup)."""


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Largest request bodies accepted, in bytes."""

    authenticated: int
    unauthenticated: int


class _RefusalError(Exception):
    def __init__(self, status: int, body: dict[str, object]) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def _invalid(loc: list[str | int], msg: str, kind: str) -> _RefusalError:
    field = ".".join(str(part) for part in loc)
    return _RefusalError(
        422, {"detail": [{"loc": loc, "msg": msg, "type": kind}], "message": f"{field}: {msg}"}
    )


def _too_large(limit: int, authenticated: bool) -> _RefusalError:
    who = "" if authenticated else " without a valid token"
    message = f"request body too large: at most {limit} bytes are accepted{who}"
    return _RefusalError(413, {"detail": message, "message": message})


def check_text(loc: list[str | int], value: str, *, strict: bool) -> None:
    """Raise the 422 refusal when ``value`` holds control characters (``strict``: also tab/newlines)."""
    pattern = _CONTROL_STRICT if strict else _CONTROL_TEXT
    if pattern.search(value):
        raise _invalid(loc, "must not contain NUL or other control characters", "string_control_characters")


def _check_scalar_text(loc: list[str | int], value: str, *, strict: bool) -> None:
    check_text(loc, value, strict=strict)
    if len(value) <= 40 and _INTEGER.match(value) and abs(int(value)) > INT64_MAX:
        raise _invalid(loc, f"integer out of range (at most {INT64_MAX})", "int_out_of_range")


def _walk_json(value: object, loc: list[str | int]) -> Iterator[tuple[list[str | int], object]]:
    yield loc, value
    if isinstance(value, dict):
        for key, item in value.items():
            check_text([*loc, str(key)[:64]], str(key), strict=False)
            yield from _walk_json(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_json(item, [*loc, index])


def check_json(body: bytes) -> None:
    """Refuse control characters in strings and integers beyond 64 bits anywhere in a JSON body."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return  # malformed JSON: the route's own validation answers 422
    for loc, value in _walk_json(document, ["body"]):
        if isinstance(value, str):
            check_text(loc, value, strict=False)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
            raise _invalid(loc, f"integer out of range (at most {INT64_MAX})", "int_out_of_range")


def check_query(query_string: bytes) -> None:
    """Refuse control characters and integers beyond 64 bits in query parameters."""
    text = query_string.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"):
        check_text(["query", name[:64]], name, strict=True)
        _check_scalar_text(["query", name], value, strict=True)


def check_form(body: bytes) -> None:
    """Refuse control characters and integers beyond 64 bits in a url-encoded form."""
    text = body.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"):
        check_text(["body", name[:64]], name, strict=True)
        _check_scalar_text(["body", name], value, strict=False)


class InputGuardMiddleware:
    """Body-size limits and input checks ahead of routing and authentication (see the module)."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits, token_ok: TokenCheck) -> None:
        self.app = app
        self.limits = limits
        self.token_ok = token_ok

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_text(["path"], str(scope.get("path", "")), strict=True)
            check_query(bytes(scope.get("query_string", b"")))
            headers = Headers(scope=scope)
            body = await self._read_body(headers, receive)
            if body is not None:
                self._check_body(headers, body)
        except _RefusalError as refusal:
            response = JSONResponse(refusal.body, status_code=refusal.status)
            if refusal.status == 413:
                response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _limit(self, headers: Headers) -> tuple[int, bool]:
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token and self.token_ok(token.strip()):
            return self.limits.authenticated, True
        return self.limits.unauthenticated, False

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes | None:
        """The whole body when the request has one (None otherwise); refused past the limit."""
        declared = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if declared is None and not chunked:
            return None
        limit, authenticated = self._limit(headers)
        if declared is not None:
            if not declared.strip().isdigit():
                raise _RefusalError(
                    400, {"detail": "invalid Content-Length", "message": "invalid Content-Length"}
                )
            if int(declared) > limit:
                raise _too_large(limit, authenticated)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > limit:
                raise _too_large(limit, authenticated)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def _check_body(headers: Headers, body: bytes) -> None:
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json" or content_type.endswith("+json"):
            check_json(body)
        elif content_type == "application/x-www-form-urlencoded":
            check_form(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
