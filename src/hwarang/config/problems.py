"""Validation errors in words: one line per problem, the key path, and the choices when there are any.

Pydantic's own text (class names of tagged unions, a link per error) is for programmers; what a
person typing a command or editing a YAML file needs is *where*, *what* and *what is allowed*.
"""

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from hwarang.edge.sources.rtsp import mask_credentials


def describe_validation_error(
    exc: ValidationError, source: str, model: object = None, *, what: str = "configuration"
) -> str:
    """``source: N what error(s):`` then ``  key.path: message (got value)`` lines with the choices."""
    lines = [f"{source}: {exc.error_count()} {what} error(s):"]
    for error in exc.errors(include_url=False):
        lines.append(f"  {describe_problem(error, model)}")
    return "\n".join(lines)


def describe_problem(error: ErrorDetails, model: object = None) -> str:
    """``key.path: message (got value)``, naming the allowed keys or values when the input is unknown."""
    loc = ".".join(str(part) for part in error["loc"]) or "(top level)"
    ctx = error.get("ctx") or {}
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {mask_credentials(repr(got))})"
    kind = error["type"]
    if kind == "union_tag_invalid":
        where = "type" if not error["loc"] else f"{loc}.type"
        return f"{where}: unknown type {ctx.get('tag')!r}; choose among: {_tags(ctx.get('expected_tags'))}"
    if kind == "union_tag_not_found":
        return f"{loc}: 'type' is missing; choose among the types of this field"
    if kind == "extra_forbidden":
        allowed = None if model is None else allowed_keys(model, error["loc"][:-1])
        hint = "" if not allowed else f"; allowed keys here: {', '.join(allowed)}"
        return f"{loc}: unknown key{shown}{hint}"
    message = mask_credentials(error["msg"])
    return f"{loc}: {message}{shown}"


def _tags(expected: object) -> str:
    """``'a', 'b'`` as pydantic writes the expected tags, unquoted: ``a, b``."""
    return str(expected).replace("'", "")


def allowed_keys(model: object, path: Sequence[int | str]) -> list[str] | None:
    """The field names of the model at ``path`` inside ``model`` (a model class or a type such as a
    tagged union); None when it cannot be told."""
    current: Any = _unwrap(model)
    for part in path:
        current = _step(current, part)
        if current is None:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return None


def _step(annotation: Any, part: int | str) -> Any:
    """The type one key or index further down (lists, dicts, optionals and tagged unions unwrapped)."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return None if field is None else _unwrap(field.annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple, set, frozenset, Sequence) and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    if origin in (typing.Union, types.UnionType):
        for member in args:
            member = _unwrap(member)
            if isinstance(member, type) and issubclass(member, BaseModel) and _tag_of(member) == part:
                return member
    return None


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> X; ``X | None`` -> X."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _tag_of(model: type[BaseModel]) -> object:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 else field.default
