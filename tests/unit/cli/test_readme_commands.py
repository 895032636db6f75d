"""Every ``hwarang`` command the README shows either runs as written (in a scratch folder) or is
listed here with the reason it needs more than this machine's loopback (a server, a long run, a
model, an earlier result); a command added to the README without either fails this test."""

import logging
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hwarang.cli import app

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
PROMPTED_PASSWORD = "duty1-password-1\nduty1-password-1\n"

NEEDS_MORE: dict[tuple[str, ...], str] = {
    ("analyze",): "decodes the 795-frame PETS clip with the detector (tests/integration/test_cli_analyze.py)",
    ("demo",): "a server that runs until stopped (tests/e2e, tests/integration/test_embedded_site.py)",
    ("models", "import"): "needs a model file (tests/unit/edge/ model store tests)",
    ("eval", "mot"): "a detector over a real clip and ground truth (tests/integration/)",
    ("eval", "alarms"): "a detector over a real clip and ground truth (tests/integration/)",
    ("hub",): "a server that needs NATS (tests/integration/)",
    ("edge",): "a process that needs NATS (tests/integration/)",
    ("simulate",): "an event load generator on NATS (bench/)",
    ("incident", "export"): "needs an incident id of a running site (tests/unit/cli/test_cli_audit.py)",
    ("evidence", "verify"): "needs an exported package (tests/unit/cli/test_cli_audit.py)",
    ("users", "reset"): "needs the admin a first hub start creates (tests/unit/cli/test_cli_users.py)",
    ("exercise", "simulate"): "a national simulation of several minutes (tests/unit/exercise/)",
}
"""README commands not run here, by their command words, and where they are tested instead."""


@pytest.fixture(autouse=True)
def _keep_root_log_level() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


def readme_commands() -> list[str]:
    """The ``.venv/bin/hwarang ...`` lines of the README's shell blocks, without their comments."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            if line.startswith(".venv/bin/hwarang "):
                commands.append(
                    line.removeprefix(".venv/bin/hwarang ").split("   #")[0].split("  #")[0].strip()
                )
    return commands


def _words(command: str) -> list[str]:
    return [w for w in shlex.split(command.split(">")[0]) if not w.startswith("[")]


def _key(words: list[str]) -> tuple[str, ...]:
    for size in (2, 1):
        if tuple(words[:size]) in NEEDS_MORE:
            return tuple(words[:size])
    return tuple(words[:2])


def _variants(command: str) -> list[str]:
    """``regions list [--sido 11]`` -> without and with the optional part."""
    optional = re.search(r"\[([^\]]+)\]", command)
    if optional is None:
        return [command]
    return [
        command.replace(optional.group(0), "").strip(),
        command.replace(optional.group(0), optional.group(1)),
    ]


def test_the_readme_shows_the_commands_this_test_knows() -> None:
    commands = readme_commands()
    assert len(commands) >= 15
    keys = {_key(_words(c)) for c in commands}
    assert keys >= set(NEEDS_MORE), f"README no longer shows {set(NEEDS_MORE) - keys}"


def test_every_readme_command_that_needs_no_service_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HWARANG_DATA_DIR", raising=False)
    (tmp_path / "src").symlink_to(ROOT / "src")  # the README's paths are relative to the checkout
    runner = CliRunner()
    ran = []
    for command in readme_commands():
        for variant in _variants(command):
            words = _words(variant)
            if _key(words) in NEEDS_MORE:
                continue
            stdin = PROMPTED_PASSWORD if words[:2] == ["users", "add"] else None
            result = runner.invoke(app, words, input=stdin)
            output = result.stdout + result.stderr
            assert result.exit_code == 0, f"`hwarang {variant}` exited {result.exit_code}:\n{output}"
            assert "Traceback" not in output, variant
            redirect = variant.split(">")[1].strip() if ">" in variant else None
            if redirect:
                (tmp_path / redirect).write_text(result.stdout, encoding="utf-8")
            ran.append(variant)
    assert any(c.startswith("users add duty1 --agency seoul-jung") for c in ran)
    assert any(c.startswith("exercise validate --config site.yaml") for c in ran)
    assert len(ran) >= 10
