"""The shape of the code: layers (import-linter), no module-level import cycles, no private reaches,
and the hub as rooms with a service that only composes them."""

import ast
import inspect
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hwarang.hub.service import HubService

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PACKAGE = SRC / "hwarang"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


MODULES = dict(_modules())


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = _package_of(module, path).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(module: str, path: Path) -> set[str]:
    """Our modules that ``module`` imports when it is imported (not in functions, not for typing)."""
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                origin = _resolve(module, path, node)
                for alias in node.names:
                    child = f"{origin}.{alias.name}"
                    found.add(child if child in MODULES else origin)
            elif isinstance(node, ast.If) and not _is_type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {name for name in found if name in MODULES and name != module}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_no_module_level_import_cycles() -> None:
    edges = {module: _top_level_imports(module, path) for module, path in MODULES.items()}
    # a package importing its own submodules is how packages re-export; only module cycles count
    for module, path in MODULES.items():
        if path.name == "__init__.py":
            edges[module] = {m for m in edges[module] if not m.startswith(module + ".")}
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _private_reaches(module: str, path: Path) -> list[str]:
    """``from x import _name`` from outside x's package, and ``name._attr`` where ``name`` is one of
    our modules or classes imported from another module, or a parameter annotated with one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _package_of(module, path)
    imported: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            origin = _resolve(module, path, node)
            if not origin.startswith("hwarang"):
                continue
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and not origin.startswith(package):
                    found.append(f"{module}:{node.lineno} imports {origin}.{alias.name}")
        elif isinstance(node, ast.Import):
            imported.update(alias.asname or alias.name.partition(".")[0] for alias in node.names)
    typed: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for arg in [*node.args.args, *node.args.kwonlyargs]:
                annotation = arg.annotation
                text = annotation.value if isinstance(annotation, ast.Constant) else None
                name = annotation.id if isinstance(annotation, ast.Name) else text
                if isinstance(name, str) and name in imported:
                    typed.add(arg.arg)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in imported | typed
        ):
            found.append(f"{module}:{node.lineno} reaches {node.value.id}.{node.attr}")
    return found


def test_no_module_reaches_into_another_modules_private_names() -> None:
    found = [reach for module, path in MODULES.items() for reach in _private_reaches(module, path)]
    assert found == []


def test_the_private_check_sees_a_reach_through_a_typed_parameter(tmp_path: Path) -> None:
    path = tmp_path / "regroup.py"
    path.write_text(
        "from hwarang.hub.service import HubService\n\n"
        "def merge(service: 'HubService') -> None:\n    service._notify(None)\n",
        encoding="utf-8",
    )
    assert _private_reaches("hwarang.hub.fusion.regroup", path) == [
        "hwarang.hub.fusion.regroup:4 reaches service._notify"
    ]


def test_hub_has_at_most_twelve_top_level_entries() -> None:
    entries = [p.name for p in (PACKAGE / "hub").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 12, sorted(entries)


def test_hub_service_only_composes_its_rooms() -> None:
    methods = {
        name
        for name, member in vars(HubService).items()
        if inspect.isfunction(member) or isinstance(member, property)
    }
    assert methods == {"__init__", "drones"}


def _lint_imports(config_dir: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(pythonpath), "PATH": str(Path(sys.executable).parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=config_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_lint_imports_keeps_the_contracts() -> None:
    result = _lint_imports(ROOT, SRC)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "upward"),
    [("domain/_upward.py", "import hwarang.api.app"), ("hub/_upward.py", "from hwarang.edge import node")],
)
def test_lint_imports_fails_on_an_upward_or_sideways_import(tmp_path: Path, module: str, upward: str) -> None:
    copy = tmp_path / "src" / "hwarang"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("node_modules", "dist", "__pycache__", "*.ts")
    )
    (copy / module).write_text(f"{upward}\n", encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = _lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "_upward" in result.stdout, result.stdout
