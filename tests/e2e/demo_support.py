"""A real ``hwarang demo`` process for the end-to-end tests, and what they know of it."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DemoServer:
    """A running demo: where it listens, the admin password, and when it was started."""

    base_url: str
    password: str
    started_at: float
    log_path: Path


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"demo exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"demo not healthy within {timeout_s} s:\n{log_path.read_text()[-3000:]}")


@contextmanager
def running_demo(
    data_dir: Path, video: Path, *, config: Path | None = None, timeout_s: float = 30.0
) -> Iterator[DemoServer]:
    """``python -m hwarang demo`` on a free loopback port with the real ``video`` (and ``config`` when
    given), healthy before it is yielded, terminated afterwards."""
    port = free_port()
    log_path = data_dir / "demo.log"
    password = "e2e-" + os.urandom(6).hex()
    env = dict(os.environ, HWARANG_ADMIN_PASSWORD=password, HWARANG_DEMO_VIDEO=str(video))
    command = [sys.executable, "-m", "hwarang", "demo", "--port", str(port), "--data-dir", str(data_dir)]
    if config is not None:
        command += ["--config", str(config)]
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/api/v1/health", proc, log_path, timeout_s)
        yield DemoServer(f"http://127.0.0.1:{port}", password, started, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
