"""The store monitor: PRAGMA quick_check, free space, private data directory."""

import os
import shutil
import sqlite3
import stat
from collections import namedtuple
from pathlib import Path

import pytest

from hwarang.hub.store.db import Database
from hwarang.hub.store.health import HealthBoard
from hwarang.hub.store.monitor import StoreMonitor, secure_data_dir

Usage = namedtuple("Usage", "total used free")


def _filled_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("CREATE INDEX t_body ON t (body)")
    conn.executemany("INSERT INTO t (body) VALUES (?)", [(f"row {i} " * 20,) for i in range(2000)])
    conn.commit()
    conn.close()


def test_a_sound_sqlite_store_passes_quick_check(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    _filled_sqlite(path)
    board = HealthBoard()
    monitor = StoreMonitor(Database(f"sqlite:///{path}"), tmp_path, board)
    assert monitor.check_integrity()
    assert board.level() == "ok"


def test_a_damaged_sqlite_store_turns_health_failed_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    _filled_sqlite(path)
    page = 4096
    with path.open("r+b") as f:  # scribble over b-tree pages past the header page
        f.seek(page * 3)
        f.write(b"\xa5" * page * 4)
    board = HealthBoard()
    monitor = StoreMonitor(Database(f"sqlite:///{path}"), tmp_path, board)
    assert not monitor.check_integrity()
    [condition] = board.conditions()
    assert (condition.name, condition.level) == ("integrity", "failed")
    assert "store damaged" in condition.reason and "quick_check" in condition.reason


def test_free_space_below_the_floor_is_degraded_and_clears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = HealthBoard()
    monitor = StoreMonitor(Database("sqlite://"), tmp_path, board, min_free_bytes=100 << 20)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: Usage(1 << 30, (1 << 30) - (10 << 20), 10 << 20))
    assert not monitor.check_disk()
    [condition] = board.conditions()
    assert condition.level == "degraded" and "10.0 MiB free" in condition.reason
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: Usage(1 << 30, 0, 500 << 20))
    assert monitor.check_disk()
    assert board.level() == "ok"


def test_the_floor_is_capped_at_a_share_of_small_volumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = HealthBoard()
    monitor = StoreMonitor(Database("sqlite://"), tmp_path, board, min_free_bytes=256 << 20)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: Usage(16 << 20, 6 << 20, 10 << 20))
    assert monitor.check_disk(), "10 of 16 MiB free is plenty on a 16 MiB volume"


def test_data_directory_becomes_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # an earlier hub start in this process may have left umask 077
    try:
        data = tmp_path / "hub"
        (data / "evidence" / "ab").mkdir(parents=True, mode=0o755)
        data.chmod(0o755)
        (data / "hub.db").write_bytes(b"x")
        (data / "hub.db").chmod(0o644)
        (data / "evidence" / "ab" / "snap.jpg").write_bytes(b"y")
        (data / "evidence" / "ab" / "snap.jpg").chmod(0o664)
        assert secure_data_dir(data) >= 4
        (data / "new.txt").write_text("made after", encoding="utf-8")
    finally:
        os.umask(old)

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    assert mode(data) == 0o700
    assert mode(data / "evidence") == 0o700
    assert mode(data / "evidence" / "ab") == 0o700
    assert mode(data / "hub.db") == 0o600
    assert mode(data / "evidence" / "ab" / "snap.jpg") == 0o600
    assert mode(data / "new.txt") == 0o600, "the umask keeps new files private"
