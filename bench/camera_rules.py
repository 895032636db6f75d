"""Latency of a rule change from the API to the running edge, on the demo's PETS camera.

    python bench/camera_rules.py [--rounds N] [--video PATH]

Starts ``hwarang demo`` (in-memory bus, the real PETS 2009 clip) on a free loopback port, waits for
the PETS camera to run, then ``--rounds`` times replaces a zone over the plaza with a new one (a new
rule name) through ``PUT /api/v1/cameras/{id}/config`` and measures, from sending the PUT:
the edge's answer as the hub recorded it (``applied``), and the first event of the new rule held by
the hub (``GET /api/v1/events``). Polls every 50 ms; bounded to two minutes. Restores the camera's
rules at the end. Record results in docs/benchmarks.md.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

CAMERA = "icn-harbour-plaza-01"
PLAZA = [[40, 200], [740, 170], [740, 560], [40, 560]]
DEFAULT_VIDEO = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "video" / "vtest_opencv_orig.avi"
)
BUDGET_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(base: str, path: str, token: str | None = None, body: Any = None, method: str = "GET") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _token(base: str, password: str) -> str:
    form = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
    request = urllib.request.Request(f"{base}/api/v1/auth/token", data=form, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["access_token"])


def _wait(condition: Any, deadline: float, step_s: float = 0.05) -> Any:
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step_s)
    raise TimeoutError("not in time")


def _round(base: str, token: str, index: int, deadline: float) -> tuple[float, float]:
    current = _call(base, f"/api/v1/cameras/{CAMERA}/config", token)
    name = f"bench-plaza-{os.getpid()}-{index}"
    rules = [r for r in current["config"].get("rules", []) if not r["name"].startswith("bench-plaza-")]
    rules.append({"type": "zone_intrusion", "name": name, "polygon": PLAZA, "min_dwell_s": 0.5})
    body = {"version": current["version"], "config": {**current["config"], "rules": rules}}
    sent = time.monotonic()
    saved = _call(base, f"/api/v1/cameras/{CAMERA}/config", token, body, "PUT")

    def applied() -> bool:
        now = _call(base, f"/api/v1/cameras/{CAMERA}/config", token)
        return now["version"] == saved["version"] and (now["edge"] or {}).get("status") == "applied"

    def first_event() -> bool:
        events = _call(base, f"/api/v1/events?camera_id={CAMERA}&limit=200", token)
        return any(e["rule_name"] == name for e in events)

    _wait(applied, deadline)
    applied_s = time.monotonic() - sent
    _wait(first_event, deadline)
    return applied_s, time.monotonic() - sent


def main() -> None:
    """Start the demo, change the PETS camera's rules ``--rounds`` times, print the latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    args = parser.parse_args()
    deadline = time.monotonic() + BUDGET_S
    port, password = _free_port(), "bench-" + os.urandom(6).hex()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(os.environ, HWARANG_ADMIN_PASSWORD=password, HWARANG_DEMO_VIDEO=str(args.video))
        command = [sys.executable, "-m", "hwarang", "demo", "--port", str(port), "--data-dir", data_dir]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: _healthy(base), deadline, 0.2)
            token = _token(base, password)
            _wait(lambda: _running(base), deadline, 0.2)
            original = _call(base, f"/api/v1/cameras/{CAMERA}/config", token)["config"]
            results = [_round(base, token, i, deadline) for i in range(args.rounds)]
            current = _call(base, f"/api/v1/cameras/{CAMERA}/config", token)
            _call(
                base,
                f"/api/v1/cameras/{CAMERA}/config",
                token,
                {"version": current["version"], "config": original},
                "PUT",
            )
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    applied = [a for a, _ in results]
    events = [e for _, e in results]
    print(f"rounds: {len(results)} (poll step 50 ms)")
    print("change -> applied at the edge (answer at the hub): " + _summary(applied))
    print("change -> first event of the new rule at the hub: " + _summary(events))


def _summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.2f} s, min {min(values):.2f} s, max {max(values):.2f} s "
        f"({', '.join(f'{v:.2f}' for v in values)})"
    )


def _healthy(base: str) -> bool:
    try:
        return bool(_call(base, "/api/v1/health"))
    except OSError:
        return False


def _running(base: str) -> bool:
    health = _call(base, "/api/v1/health")
    cameras = health.get("extra", health).get("cameras", [])
    return any(c["camera_id"] == CAMERA and c["frames_processed"] > 20 for c in cameras)


if __name__ == "__main__":
    main()
