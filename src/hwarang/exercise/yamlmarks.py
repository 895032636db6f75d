"""YAML with the line and column of every value, so validation errors can say where a field is.

``load_marked`` parses like ``yaml.safe_load`` and also returns a map from each value's path
(``("injects", 2, "expected", "acknowledge_within_s")``) to its position in the file: where its key
is, for a mapping entry, or where the item starts, for a list item.
:func:`locate` turns a pydantic error location into the nearest known position and a dotted field
name, skipping the union tags pydantic inserts into locations.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """A position in a file, 1-based."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file: where, which field, what."""

    source: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.field}: {self.message}"


class MarkedYamlError(Exception):
    """The text is not YAML, or has a repeated key; ``problems`` say where."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _key(node: yaml.Node) -> str | int:
    value = node.value
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int":
        try:
            return int(str(value).replace("_", ""), 0)
        except ValueError:
            return str(value)
    return str(value)


def _walk(node: yaml.Node, path: Path, marks: dict[Path, Mark], problems: list[Problem], source: str) -> None:
    marks[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str | int, Mark] = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            if key in seen:
                first = seen[key]
                here = _mark(key_node)
                field = ".".join(str(p) for p in (*path, key))
                message = f"repeated key (first at line {first.line})"
                problems.append(Problem(source, here.line, here.column, field, message))
            seen[key] = _mark(key_node)
            _walk(value_node, (*path, key), marks, problems, source)
            marks[(*path, key)] = _mark(key_node)  # a field is reported where its key is
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), marks, problems, source)


def load_marked(text: str, source: str) -> tuple[Any, dict[Path, Mark]]:
    """The YAML document and the position of every value in it; MarkedYamlError says where it is bad."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
            data = None if node is None else loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            found = Problem(source, line, column, "(yaml)", f"invalid YAML: {problem}")
            raise MarkedYamlError([found]) from None
        except yaml.YAMLError as exc:
            raise MarkedYamlError([Problem(source, 1, 1, "(yaml)", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    marks: dict[Path, Mark] = {}
    problems: list[Problem] = []
    if node is not None:
        _walk(node, (), marks, problems, source)
    if problems:
        raise MarkedYamlError(problems)
    return data, marks


def locate(loc: Sequence[str | int], marks: dict[Path, Mark], data: Any) -> tuple[Mark, str]:
    """Position and dotted field name of a pydantic error location in the marked document.

    Parts of ``loc`` that are not in the data (a union tag such as ``figure`` or ``function-after``)
    are skipped; a missing key points at the mapping that lacks it.
    """
    path: Path = ()
    shown: list[str] = []
    current = data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        if in_mapping or (isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)):
            current = current[part]
            path = (*path, part)
            shown.append(str(part))
        elif isinstance(current, dict) and part == current.get("type"):
            continue  # the tag of a discriminated union
        elif isinstance(current, dict) and isinstance(part, str) and _is_field_name(part):
            shown.append(part)  # a missing key: reported at its mapping
            current = None
    field = ".".join(shown) or "(top level)"
    return marks.get(path, Mark(1, 1)), field


def _is_field_name(part: str) -> bool:
    return part.isidentifier() and "-" not in part and "[" not in part
