"""Types shared by the end-to-end tests."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DemoServer:
    """A running demo: where it listens, the admin password, and when it was started."""

    base_url: str
    password: str
    started_at: float
    log_path: Path
