"""Per-address login throttling: an exponential delay that slows a guesser, never a lock.

Each client address may fail ``free_failures`` logins in a row; after that it must wait
``2 ** (failures - free_failures)`` seconds (at most ``max_delay_s``) after its last failure
before the hub looks at another password from it, and is answered 429 with ``Retry-After``
meanwhile. A success clears the address; an address that stays quiet for ``max_delay_s`` is
forgotten. The account lock (``hub.identity.users``) works alongside it and lets the real user's
known addresses through, so neither measure locks the real user out.

State is per process and bounded (``max_addresses``, oldest forgotten first).
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Failures:
    count: int
    last: float


class LoginThrottle:
    """Failures per client address, and how long each must wait before its next login."""

    def __init__(
        self,
        *,
        free_failures: int = 5,
        max_delay_s: float = 900.0,
        max_addresses: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if free_failures < 1 or max_delay_s <= 0 or max_addresses < 1:
            raise ValueError("free_failures, max_delay_s and max_addresses must be positive")
        self.free_failures = free_failures
        self.max_delay_s = max_delay_s
        self.max_addresses = max_addresses
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def wait_s(self, address: str) -> float:
        """Seconds ``address`` must still wait before its next login (0: it may try now)."""
        with self._lock:
            entry = self._failures.get(address)
            if entry is None:
                return 0.0
            now = self._clock()
            if now - entry.last > self.max_delay_s:
                del self._failures[address]
                return 0.0
            return max(0.0, entry.last + self._delay(entry.count) - now)

    def failed(self, address: str) -> None:
        """Count a failed login from ``address``."""
        with self._lock:
            entry = self._failures.pop(address, None)
            now = self._clock()
            if entry is None or now - entry.last > self.max_delay_s:
                entry = _Failures(0, now)
            entry.count += 1
            entry.last = now
            self._failures[address] = entry
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        """Forget the failures of ``address``."""
        with self._lock:
            self._failures.pop(address, None)

    def _delay(self, count: int) -> float:
        over = count - self.free_failures
        if over < 0:
            return 0.0
        return float(min(self.max_delay_s, 2.0 ** min(over, 30)))
