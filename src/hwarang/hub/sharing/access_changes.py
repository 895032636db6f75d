"""Who must hear at once that rights changed: a condition's grants opened, lifted, rejected or
expired, a share made or revoked.

The services that change grants and shares call :meth:`AccessChanges.notify` after their
transaction committed; the live WebSocket sessions listen and re-read their user's scope at once,
so a page takes evidence off the screen the moment a lift commits instead of at its next poll.
"""

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

AccessListener = Callable[[str], None]
"""Called with the reason (``condition.lift``, ``share.revoke`` ...) from the writing thread."""


class AccessChanges:
    """A thread-safe list of listeners told whenever grants or shares change."""

    def __init__(self) -> None:
        self._listeners: list[AccessListener] = []
        self._lock = threading.Lock()
        self._notified = 0

    def add_listener(self, listener: AccessListener) -> None:
        """Call ``listener`` with the reason of every change from now on."""
        with self._lock:
            self._listeners.append(listener)

    def notify(self, reason: str) -> None:
        """Tell every listener (a failing listener is logged, the others still hear)."""
        with self._lock:
            self._notified += 1
            listeners = tuple(self._listeners)
        for listener in listeners:
            try:
                listener(reason)
            except Exception:
                logger.exception("access listener %r failed on %s", listener, reason)

    @property
    def notified(self) -> int:
        """How many changes were announced (for health)."""
        with self._lock:
            return self._notified
