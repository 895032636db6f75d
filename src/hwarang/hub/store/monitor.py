"""Watching the store: integrity (SQLite ``PRAGMA quick_check``), free space, private files.

:class:`StoreMonitor` raises conditions on the hub's :class:`~hwarang.hub.store.health.HealthBoard`:
``integrity`` (``failed``) when the SQLite file is damaged, ``disk`` (``degraded``) when the data
directory's file system runs short. :func:`secure_data_dir` makes the data directory 0700 and its
files 0600 (and the process umask 077, so new files are private too).
"""

import logging
import os
import shutil
import stat
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hwarang.hub.store.db import Database
from hwarang.hub.store.health import HealthBoard

logger = logging.getLogger(__name__)

INTEGRITY = "integrity"
DISK = "disk"
MAX_FREE_SHARE = 0.05
MAX_REPORTED_PROBLEMS = 3


class StoreMonitor:
    """Checks ``database`` and the file system of ``data_dir``; reports on ``board``."""

    def __init__(
        self, database: Database, data_dir: Path, board: HealthBoard, *, min_free_bytes: int = 256 << 20
    ) -> None:
        self._database = database
        self._data_dir = data_dir
        self._board = board
        self._min_free_bytes = min_free_bytes

    def check_integrity(self) -> bool:
        """Run ``PRAGMA quick_check`` (SQLite; PostgreSQL checks itself); True when the store is sound."""
        if self._database.dialect != "sqlite":
            return True
        try:
            with self._database.engine.connect() as conn:
                rows = [str(r[0]) for r in conn.execute(text("PRAGMA quick_check"))]
        except SQLAlchemyError as exc:
            rows = [str(getattr(exc, "orig", exc))]
        if rows == ["ok"]:
            self._board.clear(INTEGRITY)
            return True
        shown = "; ".join(rows[:MAX_REPORTED_PROBLEMS])
        more = f" (+{len(rows) - MAX_REPORTED_PROBLEMS} more)" if len(rows) > MAX_REPORTED_PROBLEMS else ""
        reason = f"store damaged ({self._database.masked_url}): quick_check: {shown}{more}"
        logger.error("%s", reason)
        self._board.raise_condition(INTEGRITY, "failed", reason[:500])
        return False

    def check_disk(self) -> bool:
        """Compare the data directory's free space with the floor; True when there is enough."""
        try:
            usage = shutil.disk_usage(self._data_dir)
        except OSError as exc:
            self._board.raise_condition(
                DISK, "degraded", f"data directory {self._data_dir} unreadable: {exc}"
            )
            return False
        floor = min(self._min_free_bytes, int(usage.total * MAX_FREE_SHARE))
        if usage.free > floor:
            self._board.clear(DISK)
            return True
        reason = (
            f"disk nearly full: {usage.free / 2**20:.1f} MiB free of {usage.total / 2**20:.0f} MiB "
            f"under {self._data_dir} (floor {floor / 2**20:.1f} MiB); writes wait until space is freed"
        )
        self._board.raise_condition(DISK, "degraded", reason)
        return False


def secure_data_dir(data_dir: Path) -> int:
    """Make ``data_dir`` 0700, every directory in it 0700 and every file 0600; set umask 077.

    Returns how many entries were changed.
    """
    os.umask(0o077)
    changed = 0
    for root, dirs, files in os.walk(data_dir):
        changed += _restrict(Path(root), 0o700)
        for name in dirs:
            changed += _restrict(Path(root, name), 0o700)
        for name in files:
            changed += _restrict(Path(root, name), 0o600)
    if changed:
        logger.info("data directory %s: %s entries made private (0700 / 0600)", data_dir, changed)
    return changed


def _restrict(path: Path, mode: int) -> int:
    try:
        current = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink() or current & 0o077 == 0:
            return 0
        path.chmod(current & mode)
    except OSError as exc:
        logger.warning("cannot restrict permissions of %s: %s", path, exc)
        return 0
    return 1
