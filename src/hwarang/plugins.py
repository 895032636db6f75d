"""One plugin mechanism for every family: the config union is the list, each config class builds its part.

A family (sources, detectors, rules, bus backends, exporters, inject actions) writes one pydantic
config class per plugin, with ``type: Literal["<name>"]`` and a ``build(...)`` method that returns the
part (heavy imports inside ``build``). The family's discriminated union of those classes is its single
list of plugins, and a ``Registry`` made from that union parses mappings into configs with errors
that name the family, the thing configured and the known types. Adding a plugin is one new module and
one line in the union.
"""

from collections.abc import Callable, Mapping
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, cast, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

ConfigT = TypeVar("ConfigT", bound=BaseModel)

ErrorFactory = Callable[[str], Exception]


def union_members(union: Any) -> tuple[type[BaseModel], ...]:
    """The config classes of a union, plain (``A | B``) or ``Annotated[A | B, Field(discriminator=...)]``."""
    if get_origin(union) is Annotated:
        union = get_args(union)[0]
    members = get_args(union) if get_origin(union) in (Union, UnionType) else (union,)
    classes: list[type[BaseModel]] = []
    for member in members:
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            raise TypeError(f"plugin union member {member!r} is not a pydantic config class")
        classes.append(member)
    return tuple(classes)


def plugin_type(config_class: type[BaseModel]) -> str:
    """The ``type`` literal a plugin's config class is selected by."""
    field = config_class.model_fields.get("type")
    literals = get_args(field.annotation) if field is not None else ()
    if len(literals) != 1 or not isinstance(literals[0], str):
        raise TypeError(f"{config_class.__name__} needs a field type: Literal['<name>'] (one string)")
    return literals[0]


def problems(exc: ValidationError, tag: str | None = None) -> str:
    """A validation error as ``where: what`` pairs, one line (without the union's leading ``tag``)."""
    parts = []
    for err in exc.errors():
        loc = err["loc"][1:] if tag is not None and err["loc"][:1] == (tag,) else err["loc"]
        parts.append(f"{'.'.join(str(part) for part in loc) or '<root>'}: {err['msg']}")
    return "; ".join(parts)


class Registry(Generic[ConfigT]):
    """The plugins of one family, read from its config union; parses and checks configs by ``type``."""

    def __init__(self, family: str, union: Any, *, error: ErrorFactory) -> None:
        self.family = family
        self._union = union
        self._error = error
        self._classes: dict[str, type[ConfigT]] = {}
        for config_class in union_members(union):
            name = plugin_type(config_class)
            if name in self._classes:
                raise TypeError(f"{family} type {name!r} is registered twice")
            self._classes[name] = cast(type[ConfigT], config_class)
        self._adapter: TypeAdapter[ConfigT] = TypeAdapter(union)

    @property
    def types(self) -> tuple[str, ...]:
        """The registered ``type`` names, sorted."""
        return tuple(sorted(self._classes))

    @property
    def classes(self) -> dict[str, type[ConfigT]]:
        """Config class of each ``type`` (a copy)."""
        return dict(self._classes)

    def config_class(self, name: str) -> type[ConfigT]:
        """The config class of plugin ``name``; the family's error lists the known types otherwise."""
        config_class = self._classes.get(name)
        if config_class is None:
            raise self._unknown(name, self.family)
        return config_class

    def parse(self, data: Mapping[str, Any], *, what: str | None = None) -> ConfigT:
        """Validate ``data`` into its plugin's config; errors name ``what`` (default: the family)."""
        subject = what or self.family
        name = data.get("type")
        if not isinstance(name, str) or name not in self._classes:
            raise self._unknown(name, subject)
        try:
            return self._adapter.validate_python(data)
        except ValidationError as exc:
            detail = problems(exc, name)
            raise self._error(f"{subject}: invalid {name!r} {self.family} config: {detail}") from exc

    def check(self, config: BaseModel, *, what: str | None = None) -> ConfigT:
        """``config`` when it is one of this family's registered configs; the family's error otherwise."""
        name = getattr(config, "type", None)
        config_class = self._classes.get(name) if isinstance(name, str) else None
        if config_class is None or not isinstance(config, config_class):
            raise self._unknown(name, what or self.family)
        return config

    def extended(self, *config_classes: type[BaseModel]) -> "Registry[ConfigT]":
        """A registry of this family with ``config_classes`` added (how a test or a site adds a plugin)."""
        members = (*union_members(self._union), *config_classes)
        union: Any = Annotated[Union[members], Field(discriminator="type")]  # noqa: UP007 - built at run time
        return Registry(self.family, union, error=self._error)

    def _unknown(self, name: object, subject: str) -> Exception:
        known = ", ".join(self.types) or "none"
        return self._error(f"{subject}: unknown {self.family} type {name!r}; known types: {known}")
