"""The OpenAPI document lists the error answers each route can give, with the body the app sends.

FastAPI documents only 200 and its own 422 shape (``detail`` a list). Hwarang's error handlers also
answer 422 with a string ``detail`` (hub refusals), and every guarded route can answer 401 and 403,
every route with a path parameter 404, and so on. :func:`document_errors` adds those answers to
each operation that does not declare them itself, so partners (and schemathesis) see them all.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA_NAME = "ErrorResponse"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
_ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
            ],
            "description": "What is wrong: a sentence, or one entry per invalid field (422).",
        },
        "message": {"type": "string", "description": "The same in one line (422 and 5xx answers)."},
    },
}
_VALIDATION_ERROR: dict[str, Any] = {
    "title": "ValidationError",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
}
_DESCRIPTIONS = {
    "400": "Malformed request body (not decodable).",
    "401": "Not authenticated: missing, invalid or expired token.",
    "403": "The user's roles, agency, jurisdiction or clearance do not allow this.",
    "404": "No such object.",
    "409": "Conflicts with what is stored.",
    "422": "Invalid parameters or body, or refused by the hub.",
    "503": "The hub's database is unavailable.",
}
_METHODS = frozenset({"get", "post", "put", "patch", "delete"})


def _error_codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["503"]
    guarded = bool(operation.get("security"))
    if guarded:
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    if "requestBody" in operation:
        codes += ["400", "422"]
    if operation.get("parameters"):
        codes.append("422")
    if guarded and method != "get":
        codes.append("409")
    return codes


def add_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers to every operation of ``document`` (in place; returned for chaining)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA_NAME] = _ERROR_SCHEMA
    schemas.setdefault("ValidationError", _VALIDATION_ERROR)
    content = {"application/json": {"schema": _ERROR_REF}}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for code in _error_codes(path, method, operation):
                responses.setdefault(code, {"description": _DESCRIPTIONS[code], "content": content})
            validation = responses.get("422", {}).get("content", {}).get("application/json", {})
            if validation.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                validation["schema"] = _ERROR_REF
    return document


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the error answers (computed once, like FastAPI's own)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_error_responses(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
