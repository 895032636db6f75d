"""Reading configuration files with errors that name the file, the key and what was expected."""

import os
import re
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hwarang.config.models import AppConfig
from hwarang.config.problems import describe_validation_error

BUILTIN_SOURCE = "<built-in demo.yaml>"
"""How errors in the built-in demo configuration name their source."""

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """A configuration file is missing, unreadable or invalid."""


def default_config_text() -> str:
    """The built-in demo configuration (YAML text)."""
    return (files("hwarang.config") / "demo.yaml").read_text(encoding="utf-8")


def load_config(path: Path | None) -> AppConfig:
    """Load ``path`` (or the built-in demo configuration when None)."""
    if path is None:
        return parse_config(default_config_text(), source=BUILTIN_SOURCE)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc}") from None
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Parse YAML text, expand ``${VAR}`` / ``${VAR:-default}``, validate against :class:`AppConfig`."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(raw).__name__}")
    expanded = _expand_env(raw, os.environ if environ is None else environ, source, ())
    try:
        return AppConfig.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line per problem: ``file: key.path: message (got value)``, with the allowed keys or types."""
    return describe_validation_error(exc, source, AppConfig)


def _expand_env(value: Any, environ: Mapping[str, str], source: str, loc: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v, environ, source, (*loc, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, environ, source, (*loc, str(i))) for i, v in enumerate(value)]
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: _env_value(m, environ, source, loc), value)
    return value


def _env_value(match: re.Match[str], environ: Mapping[str, str], source: str, loc: tuple[str, ...]) -> str:
    name, default = match.group(1), match.group(2)
    value = environ.get(name)
    if value is not None and (value or default is None):
        return value
    if default is not None:
        return default
    raise ConfigError(f"{source}: {'.'.join(loc)}: environment variable {name} is not set and has no default")
