"""The conformance table in docs/interop.md, written by the conformance tests from what they saw.

Each check records (standard, vector, check, result); at the end of the module the rows replace the
marked section of docs/interop.md. The table is exactly what the last run checked: run the whole
module (not a ``-k`` subset) before committing it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "interop.md"
BEGIN = "<!-- conformance:begin (written by tests/integration/interop/test_conformance.py) -->"
END = "<!-- conformance:end -->"
HEADER = "| standard | vector | check | result |\n|---|---|---|---|"


@dataclass
class ConformanceTable:
    rows: dict[tuple[str, str, str], str] = field(default_factory=dict)

    @contextmanager
    def check(self, standard: str, vector: str, check: str, passed: str = "pass") -> Iterator[None]:
        """Record ``passed`` when the block completes, ``FAIL`` (and re-raise) when it raises."""
        key = (standard, vector, check)
        try:
            yield
        except BaseException:
            self.rows[key] = "FAIL"
            raise
        self.rows[key] = passed

    def write(self, doc: Path = DOC) -> None:
        text = doc.read_text(encoding="utf-8")
        if BEGIN not in text or END not in text:
            raise AssertionError(f"{doc} lacks the conformance markers {BEGIN!r} ... {END!r}")
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        lines = [f"| {s} | {v} | {c} | {r.replace('|', '/')} |" for (s, v, c), r in sorted(self.rows.items())]
        passed = sum(result.startswith("pass") for result in self.rows.values())
        summary = f"\n{passed} of {len(self.rows)} checks passed.\n"
        doc.write_text(
            f"{head}{BEGIN}\n{HEADER}\n" + "\n".join(lines) + f"\n{summary}{END}{tail}", encoding="utf-8"
        )
