"""The hub's own conditions for ``GET /api/v1/health``: ok, degraded or failed, each with its reason.

Parts that notice a fault (the ingest loop when the store is unavailable, the store monitor when
the disk fills up or ``PRAGMA quick_check`` fails) raise a named condition and clear it when the
fault is gone. The health route reports the worst one.
"""

import threading
import time
from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "degraded", "failed"]

_RANK: dict[Level, int] = {"ok": 0, "degraded": 1, "failed": 2}


@dataclass(frozen=True, slots=True)
class Condition:
    """One named fault: how bad, why, and since when (monotonic seconds)."""

    name: str
    level: Level
    reason: str
    since: float


class HealthBoard:
    """Named conditions, safe to set from threads and the event loop alike."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conditions: dict[str, Condition] = {}

    def raise_condition(self, name: str, level: Level, reason: str) -> None:
        """Record (or update) the condition ``name``; ``level="ok"`` clears it."""
        if level == "ok":
            self.clear(name)
            return
        with self._lock:
            old = self._conditions.get(name)
            since = old.since if old is not None and old.level == level else time.monotonic()
            self._conditions[name] = Condition(name, level, reason, since)

    def clear(self, name: str) -> None:
        """The fault ``name`` is gone."""
        with self._lock:
            self._conditions.pop(name, None)

    def conditions(self) -> list[Condition]:
        """Every active condition, worst first."""
        with self._lock:
            items = list(self._conditions.values())
        return sorted(items, key=lambda c: (-_RANK[c.level], c.name))

    def level(self) -> Level:
        """The worst active level (``ok`` when none)."""
        items = self.conditions()
        return items[0].level if items else "ok"
