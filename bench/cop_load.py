"""Scale benchmark of the common operational picture: a nation's cameras and incidents in the browser.

    python bench/cop_load.py [--cameras 50000] [--incidents 5000] [--events-per-incident 3]
                             [--engine sqlite|postgresql] [--browser auto|off] [--pans 120] [--loads 3]
                             [--json out.json]

1. Seeds a hub store (SQLite in a temporary folder, or a fresh schema of HWARANG_BENCH_PG_URL with
   ``--engine postgresql``) with ``--cameras`` cameras spread over the real local governments and
   ``--incidents`` incidents, each from ``--events-per-incident`` events ingested by the hub with
   fusion on (``bench/cop_seed.py``), with a progress display.
2. Starts the hub API (``hwarang.api.app.create_app`` under uvicorn) as a separate process on a free
   loopback port and waits until it has prepared its map layers (it logs when; the time is printed).
3. Browser (Debian's chromium, headless, through Playwright): logs in and measures the time from
   navigation to an interactive map (``document.documentElement.dataset.mapReady === "1"``, set
   by the front-end once its layers are loaded and rendered), ``--loads`` times — each in a new
   browser context (no browser cache; the first is the hub's first visitor) — and each time
   the frame times while panning (``window.hwarangMap.panBy`` every animation frame, a bounded
   number of steps) at the national view and at city zoom.
4. The map endpoints from Python (gzip accepted, as a browser does): size on the wire, size
   decoded, time of the first request and median of the next ones, and the 304 revalidation.

Every wait is bounded; the browser part is skipped (and said so) when the page has no map yet.
"""

import argparse
import json
import logging
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright
from pydantic import SecretStr

from cop_seed import (
    SeedSummary,
    bench_database,
    count_incidents,
    incident_messages,
    make_cameras,
    now_utc,
    progress,
    write_cameras,
    write_incidents,
)
from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.geo.zones import load_zones
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database

CHROMIUM = Path(os.environ.get("HWARANG_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",  # WebGL on the CPU (no GPU here)
]
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ADMIN = "admin"
SERVER_START_S = 90.0
MAP_PROBE_S = 20.0
PAN_LIMIT_S = 20.0
ENDPOINT_REPEATS = 4
VIEWPORT = {"width": 1600, "height": 900}
READY = 'document.documentElement.dataset.mapReady === "1"'
ENDPOINTS = (
    ("regions sido low", "/api/v1/map/regions?level=sido&detail=low"),
    ("regions sigungu low", "/api/v1/map/regions?level=sigungu&detail=low"),
    ("regions sigungu medium", "/api/v1/map/regions?level=sigungu&detail=medium"),
    ("regions sigungu high", "/api/v1/map/regions?level=sigungu&detail=high"),
    ("zones", "/api/v1/map/zones"),
    ("cameras", "/api/v1/map/cameras"),
    ("incidents limit=5000", "/api/v1/incidents?limit=5000"),
)
_PAN_JS = """
async ({steps, dx, maxMs}) => {
  const map = window.hwarangMap;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const moves = [[dx, 0], [0, dx], [-dx, 0], [0, -dx]];
  const frames = [];
  const started = performance.now();
  let last = await frame();
  for (let i = 0; i < steps && performance.now() - started < maxMs; i++) {
    map.panBy(moves[Math.floor(i / 10) % 4], {duration: 0});
    const now = await frame();
    frames.push(now - last);
    last = now;
  }
  return frames;
}
"""
_RESOURCES_JS = """
() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/v1/'))
  .map((e) => ({path: e.name.replace(location.origin, ''), ms: e.duration,
                wait_ms: e.responseStart - e.requestStart, transfer: e.transferSize,
                decoded: e.decodedBodySize}))
"""
_RENDERER_JS = """
() => {
  const gl = document.createElement('canvas').getContext('webgl');
  if (!gl) return 'no WebGL';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(
    database: Database, url: str, args: argparse.Namespace, password: str, data_dir: Path
) -> SeedSummary:
    """Cameras, then incidents through the hub's ingest; the admin gets ``password``."""
    service = _service(url, data_dir)
    try:
        service.identity.ensure_admin(password)
        started = time.perf_counter()
        cameras = make_cameras(args.cameras)
        with progress() as bar:
            task = bar.add_task("cameras", total=len(cameras))
            write_cameras(database, cameras, lambda n: bar.advance(task, n))
        camera_s = time.perf_counter() - started
        started = time.perf_counter()
        total = args.incidents * args.events_per_incident
        messages = incident_messages(cameras, args.incidents, args.events_per_incident, now=now_utc())
        with progress() as bar:
            task = bar.add_task("events", total=total)
            events = write_incidents(service, messages, lambda n: bar.advance(task, n))
        incident_s = time.perf_counter() - started
        return SeedSummary(len(cameras), count_incidents(service.database), events, camera_s, incident_s)
    finally:
        service.database.close()


def _service(url: str, data_dir: Path) -> HubService:
    zones = load_zones()

    def zone_for_sido(code: str) -> int | None:
        zone = zones.zone_for_sido(code)
        return None if zone is None else zone.id

    return HubService(
        Database(url),
        EvidenceStore(data_dir / "evidence"),
        zone_for_sido=zone_for_sido,
        fusion=FusionConfig(),
    )


def serve(port: int, data_dir: Path) -> int:
    """The hub API over the seeded store (run in a child process by :func:`hub_server`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = _service(os.environ["HWARANG_COP_DB_URL"], data_dir)
    settings = ApiSettings(jwt_secret=SecretStr(os.environ["HWARANG_COP_SECRET"]))
    uvicorn.run(create_app(service, settings), host="127.0.0.1", port=port, log_level="warning")
    return 0


def wait_prepared(log_path: Path, limit_s: float) -> float | None:
    """Seconds the hub took to prepare its map layers at start (from its log); None past ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        found = re.search(r"map layers prepared in ([0-9.]+) s", log_path.read_text(errors="replace"))
        if found:
            return float(found.group(1))
        time.sleep(0.2)
    return None


@contextmanager
def hub_server(url: str, data_dir: Path) -> Iterator[tuple[str, Path]]:
    """A child process serving the hub API on a free loopback port; yields its base URL and log."""
    port = _free_port()
    env = dict(os.environ, HWARANG_COP_DB_URL=url, HWARANG_COP_SECRET=secrets.token_hex(32))
    log_path = data_dir / "server.log"
    command = [sys.executable, __file__, "--serve", "--port", str(port), "--data-dir", str(data_dir)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"hub exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"hub not up within {SERVER_START_S:.0f} s") from None
                time.sleep(0.2)
        yield base, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _token(client: httpx.Client, password: str) -> str:
    response = client.post("/api/v1/auth/token", data={"username": ADMIN, "password": password})
    response.raise_for_status()
    return str(response.json()["access_token"])


def measure_endpoints(base: str, password: str) -> list[dict[str, Any]]:
    """Size and time of each map endpoint (first request and median of the next), plus a 304."""
    rows: list[dict[str, Any]] = []
    with httpx.Client(base_url=base, timeout=120.0, headers={"Accept-Encoding": "gzip"}) as client:
        client.headers["Authorization"] = f"Bearer {_token(client, password)}"
        newest = client.get("/api/v1/incidents", params={"limit": 1}).json()
        endpoints = list(ENDPOINTS)
        if newest:
            endpoints.append(("incident track", f"/api/v1/incidents/{newest[0]['id']}/track"))
        for label, path in endpoints:
            times = []
            response = None
            for _ in range(1 + ENDPOINT_REPEATS):
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                response.raise_for_status()
            assert response is not None
            wire = int(response.headers.get("content-length") or len(response.content))
            row = {
                "endpoint": label,
                "path": path,
                "wire_bytes": wire,
                "json_bytes": len(response.content),
                "features_or_items": _count(response),
                "first_ms": times[0] * 1000,
                "warm_median_ms": statistics.median(times[1:]) * 1000,
            }
            etag = response.headers.get("etag")
            if etag:
                started = time.perf_counter()
                again = client.get(path, headers={"If-None-Match": etag})
                row["revalidate_ms"] = (time.perf_counter() - started) * 1000
                row["revalidate_status"] = again.status_code
            rows.append(row)
    return rows


def _count(response: httpx.Response) -> int:
    body = response.json()
    return len(body["features"]) if isinstance(body, dict) else len(body)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _frames(page: Any, steps: int) -> dict[str, float]:
    frames: list[float] = page.evaluate(_PAN_JS, {"steps": steps, "dx": 120, "maxMs": PAN_LIMIT_S * 1000})
    if not frames:
        return {"frames": 0}
    return {
        "frames": len(frames),
        "median_ms": statistics.median(frames),
        "p95_ms": _percentile(frames, 0.95),
        "max_ms": max(frames),
    }


def _load_once(browser: Any, base: str, password: str, steps: int, ready_s: float) -> dict[str, Any]:
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)  # page.evaluate is eval
    foreign: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: None if r.url.startswith(base) else foreign.append(r.url))
        started = time.perf_counter()
        page.goto(f"{base}/")
        page.get_by_test_id("login-username").wait_for(timeout=15_000)
        form_s = time.perf_counter() - started
        page.get_by_test_id("login-username").fill(ADMIN)
        page.get_by_test_id("login-password").fill(password)
        submitted = time.perf_counter()
        page.get_by_test_id("login-submit").click()
        try:
            page.wait_for_function(f"window.hwarangMap !== undefined || {READY}", timeout=MAP_PROBE_S * 1000)
        except PlaywrightTimeoutError:
            return {"skipped": "the page exposes no window.hwarangMap (front-end not built yet?)"}
        page.wait_for_function(READY, timeout=ready_s * 1000, polling=50)
        ready = time.perf_counter()
        result: dict[str, Any] = {
            "login_form_s": form_s,
            "submit_to_ready_s": ready - submitted,
            "navigation_to_ready_s": ready - started,
            "resources": page.evaluate(_RESOURCES_JS),
            "pan_national": _frames(page, steps),
        }
        page.evaluate("() => window.hwarangMap.jumpTo({center: [126.98, 37.56], zoom: 12})")
        page.wait_for_timeout(1500)
        result["pan_city"] = _frames(page, steps)
        result["foreign_requests"] = foreign
        reload_started = time.perf_counter()
        page.reload()
        page.wait_for_function(
            f"{READY} || document.querySelector('[data-testid=login-form]') !== null", timeout=ready_s * 1000
        )
        if page.evaluate(f"() => {READY}"):
            result["reload_to_ready_s"] = time.perf_counter() - reload_started
        else:
            result["reload_to_ready_s"] = None  # the session did not survive a reload
        return result
    finally:
        context.close()


def measure_browser(base: str, password: str, steps: int, ready_s: float, loads: int) -> dict[str, Any]:
    """``loads`` page loads (the first on the hub just started) with pan frame times.

    ``skipped`` says why when the page has no map.
    """
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} not found"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            renderer = page.evaluate(_RENDERER_JS)
            page.close()
            runs = {"cold": _load_once(browser, base, password, steps, ready_s)}
            if "skipped" in runs["cold"]:
                return runs["cold"]
            for index in range(1, loads):
                runs[f"warm {index}"] = _load_once(browser, base, password, steps, ready_s)
            loadavg = os.getloadavg()
            return {
                "renderer": renderer,
                "runs": runs,
                "loadavg_1min_end": loadavg[0],
                "cpus": os.cpu_count(),
            }
        finally:
            browser.close()


def _print_report(
    args: argparse.Namespace, summary: SeedSummary, endpoints: list[dict[str, Any]], page: Any
) -> None:
    print(
        f"\nseeded ({args.engine}): {summary.cameras} cameras in {summary.camera_s:.1f} s; "
        f"{summary.events} events -> {summary.incidents} incidents in {summary.incident_s:.1f} s"
    )
    print("\n| endpoint | items | wire (gzip) kB | JSON kB | first ms | warm median ms | 304 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in endpoints:
        reval = f"{row['revalidate_ms']:.1f}" if row.get("revalidate_status") == 304 else "-"
        print(
            f"| {row['endpoint']} | {row['features_or_items']} | {row['wire_bytes'] / 1000:.0f} | "
            f"{row['json_bytes'] / 1000:.0f} | {row['first_ms']:.0f} | {row['warm_median_ms']:.0f} | "
            f"{reval} |"
        )
    if page is None:
        print("\nbrowser: not run (--browser off)")
        return
    if "skipped" in page:
        print(f"\nbrowser: skipped: {page['skipped']}")
        return
    print(f"\nbrowser: headless {CHROMIUM}, WebGL renderer: {page['renderer']}, viewport {VIEWPORT}")
    print(f"machine: {page['cpus']} CPUs, 1-min load average at the end {page['loadavg_1min_end']:.1f}")
    print(
        "| load | navigation -> login form s | login submit -> map ready s | navigation -> map ready s "
        "| reload -> ready s |"
    )
    print("|---|---:|---:|---:|---:|")
    runs = page["runs"]
    for name, run in runs.items():
        reload_s = run["reload_to_ready_s"]
        print(
            f"| {name} | {run['login_form_s']:.2f} | {run['submit_to_ready_s']:.2f} | "
            f"{run['navigation_to_ready_s']:.2f} | {'-' if reload_s is None else f'{reload_s:.2f}'} |"
        )
    print("| load | view | frames | median frame ms | p95 frame ms | max ms |")
    print("|---|---|---:|---:|---:|---:|")
    for name, run in runs.items():
        for view in ("pan_national", "pan_city"):
            f = run[view]
            if f["frames"]:
                print(
                    f"| {name} | {view[4:]} | {f['frames']} | {f['median_ms']:.1f} | {f['p95_ms']:.1f} | "
                    f"{f['max_ms']:.1f} |"
                )
    print("\nrequests of the cold load (browser resource timing):")
    for res in runs["cold"]["resources"]:
        print(
            f"  {res['path'][:70]:<70} {res['ms']:7.0f} ms (wait {res['wait_ms']:.0f}) "
            f"{res['transfer'] / 1000:8.0f} kB wire {res['decoded'] / 1000:8.0f} kB"
        )
    foreign = [url for run in runs.values() for url in run["foreign_requests"]]
    print(f"requests to other hosts: {len(foreign)} {foreign[:5]}")
    ready = sorted(run["navigation_to_ready_s"] for run in runs.values())
    print(
        f"navigation -> map ready over {len(ready)} loads: median {statistics.median(ready):.2f} s, "
        f"max {ready[-1]:.2f} s"
    )
    floor = runs["cold"]["navigation_to_ready_s"]
    print(f"floor (interactive in under 5 s, cold): {'met' if floor < 5.0 else 'NOT met'} ({floor:.2f} s)")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, seed, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=50_000, help="Cameras to seed (>= 1).")
    parser.add_argument("--incidents", type=int, default=5_000, help="Incidents to seed (<= cameras).")
    parser.add_argument("--events-per-incident", type=int, default=3, help="Events per incident (1..20).")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("HWARANG_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--browser", choices=("auto", "off"), default="auto", help="Run the browser part.")
    parser.add_argument("--pans", type=int, default=120, help="Pan steps per view (1..1000).")
    parser.add_argument(
        "--loads", type=int, default=3, help="Page loads (1..10); the first is on a fresh hub."
    )
    parser.add_argument("--ready-timeout-s", type=float, default=60.0, help="Longest wait for mapReady.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.port, args.data_dir)
    problems = []
    if args.cameras < 1:
        problems.append(f"--cameras must be >= 1, got {args.cameras}")
    if not 0 <= args.incidents <= args.cameras:
        problems.append(f"--incidents must be 0..cameras ({args.cameras}), got {args.incidents}")
    if not 1 <= args.events_per_incident <= 20:
        problems.append(f"--events-per-incident must be 1..20, got {args.events_per_incident}")
    if not 1 <= args.pans <= 1000:
        problems.append(f"--pans must be 1..1000, got {args.pans}")
    if not 1 <= args.loads <= 10:
        problems.append(f"--loads must be 1..10, got {args.loads}")
    if problems:
        parser.error("; ".join(problems))
    password = "cop-" + secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="hwarang-cop-") as tmp:
        folder = Path(tmp)
        with bench_database(args.engine, args.pg_url, folder) as (database, url):
            summary = seed(database, url, args, password, folder)
            with hub_server(url, folder) as (base, log_path):
                prepared_s = wait_prepared(log_path, SERVER_START_S)
                print(f"hub started; map layers prepared in {prepared_s} s (before the first page load)")
                page = None
                if args.browser == "auto":
                    page = measure_browser(base, password, args.pans, args.ready_timeout_s, args.loads)
                endpoints = measure_endpoints(base, password)
    _print_report(args, summary, endpoints, page)
    if args.json is not None:
        figures: dict[str, object] = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "seed": summary.__dict__,
        }
        figures.update(map_layers_prepared_s=prepared_s, endpoints=endpoints, browser=page)
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
