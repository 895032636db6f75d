"""The escalation loop: a background thread that escalates overdue tasks and unacknowledged incidents
every ``interval_s``."""

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from hwarang.domain import Task
from hwarang.hub.workflow.tasks import TaskService
from hwarang.hub.workflow.unacknowledged import UnacknowledgedEscalation

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class EscalationStats:
    """Counters of the escalation loop since start."""

    passes: int = 0
    escalated: int = 0
    unacknowledged: int = 0
    failures: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name, for health reports."""
        return asdict(self)


class EscalationLoop:
    """Runs ``tasks.escalate_overdue(clock())`` at start and then every ``interval_s``.

    A failing pass is logged and counted; the loop carries on. ``clock`` (UTC now) is injectable.
    """

    def __init__(
        self,
        tasks: TaskService,
        interval_s: float,
        *,
        clock: Callable[[], datetime] | None = None,
        unacknowledged: UnacknowledgedEscalation | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"escalation interval must be positive, got {interval_s} s")
        self._tasks = tasks
        self._unacknowledged = unacknowledged
        self.interval_s = interval_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = EscalationStats()

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the background thread (RuntimeError when already running)."""
        if self.running:
            raise RuntimeError("escalation loop is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hub-escalation", daemon=True)
        self._thread.start()
        logger.info("escalation loop started: every %.1f s", self.interval_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to stop and wait for the pass in hand to finish (up to ``timeout_s``)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.join(timeout_s)
        if thread.is_alive():
            logger.error("escalation loop did not stop within %.0f s", timeout_s)
        else:
            logger.info("escalation loop stopped: %s", self.stats)

    def run_once(self) -> list[Task]:
        """One pass now; returns the escalated tasks (exceptions propagate)."""
        now = self._clock()
        escalated = self._tasks.escalate_overdue(now)
        if self._unacknowledged is not None:
            self.stats.unacknowledged += len(self._unacknowledged.escalate(now))
        self.stats.passes += 1
        self.stats.escalated += len(escalated)
        return escalated

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                self.stats.failures += 1
                logger.exception("escalation pass failed (%s failures so far)", self.stats.failures)
            if self._stop.wait(self.interval_s):
                break
