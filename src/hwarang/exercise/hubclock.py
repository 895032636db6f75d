"""A settable clock for the hub's workflow (``HubService(clock=clock.now)``), so simulated and tested
actions happen at chosen times."""

import threading
from datetime import datetime


class ManualClock:
    """A clock that stays where it was set (thread-safe)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a time zone")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The time it was last set to."""
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        """Move the clock (backwards too: simulated actors are not always in order)."""
        if when.tzinfo is None:
            raise ValueError("the clock needs a time zone")
        with self._lock:
            self._now = when
