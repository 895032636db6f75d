"""Capacity of one edge node: how many real-time 768x576 cameras it analyses at 5 fps without drops.

    python bench/edge_capacity.py [--counts 2,4,6,...] [--trial-s 10] [--budget-s 1500] [--threads 1]

Every camera replays the PETS 2009 clip (``vtest``, 10 fps, looped, paced in real time); cameras start
``--stagger-s`` apart (capped so the last starts within ``--max-spread-s``). One ``EdgeNode`` runs them
all on its shared analytics pool (one worker per core, ONNX sessions shared), each analysed at
``--analysis-fps``, publishing to a no-op publisher. After the last camera has started and the motion
gates have warmed up (``--warmup-s``), counters are read over ``--trial-s`` seconds: a trial passes when
no camera dropped a frame and every camera processed at least ``--min-fps`` frames per second.

For each camera count, the default detector (the demo PETS camera's: NanoDet, motion-gated, see
``hwarang config show-default``), YOLOX-nano gated (keyframe + propagate), YOLOX-nano ungated and
motion-only are tried in turn (interleaved, so load from other jobs hits them alike); a detector stops at its
first failing count (after ``--retries`` confirmations). Prints one row per trial, then the capacity
of each detector and the gated / ungated ratio.
"""

import argparse
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from hwarang.domain import AdminLocation, EventMessage
from hwarang.edge.config import EdgeConfig
from hwarang.edge.health import CameraHealth
from hwarang.edge.node import Node, create_node

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DEFAULT_VIDEO = DATA / "video" / "vtest_opencv_orig.avi"
DEFAULT_MODEL = DATA / "models" / "yolox_nano.onnx"
DEFAULT_COUNTS = "2,4,6,8,10,12,14,16,20,24,28,32,40,48"
PLACE = {"position": {"lat": 37.47, "lon": 126.62}, "sido_code": "28", "sigungu_code": "28110"}
MODES = ("default", "gated", "ungated", "motion")


@dataclass(frozen=True, slots=True)
class Trial:
    """What one trial of ``cameras`` cameras measured over its window."""

    mode: str
    cameras: int
    fps_min: float
    fps_mean: float
    dropped: int
    errors: int
    inferences_per_frame: float
    cpu_percent: float
    load_avg: float
    min_fps: float

    @property
    def passed(self) -> bool:
        """No drop, no analytics error, every camera at the target rate."""
        return self.dropped == 0 and self.errors == 0 and self.fps_min >= self.min_fps


def _no_lookup(lat: float, lon: float) -> AdminLocation | None:
    return None


def _discard(message: EventMessage) -> None:
    return None


def detector_config(
    mode: str, model: Path, threads: int | None, max_skip_s: float, gate_downscale: int = 2
) -> dict[str, Any]:
    """The camera detector of ``mode``: the default one, YOLOX-nano gated / ungated, or motion-only."""
    if mode == "motion":
        return {"type": "motion"}
    if mode == "default":
        return default_detector(threads)
    gating: dict[str, Any] = {"mode": "none"}
    if mode == "gated":
        gating = {"mode": "motion", "max_skip_s": max_skip_s, "motion": {"downscale": gate_downscale}}
    config: dict[str, Any] = {
        "type": "onnx-yolox",
        "model_path": str(model),
        "min_confidence": 0.6,
        "gating": gating,
    }
    if threads is not None:
        config["intra_op_threads"] = threads
    return config


def default_detector(threads: int | None) -> dict[str, Any]:
    """The detector of the default configuration's file camera (what `hwarang demo` runs)."""
    from hwarang.config import load_config
    from hwarang.edge.sources.file import FileSourceConfig

    camera = next(
        cam
        for center in load_config(None).edge.centers
        for cam in center.cameras
        if isinstance(cam.source, FileSourceConfig)
    )
    config: dict[str, Any] = camera.detector.model_dump(mode="json", exclude_unset=True)
    if threads is not None and config.get("type") != "motion":
        config["intra_op_threads"] = threads
    return config


def edge_config(
    cameras: int,
    video: Path,
    detector: dict[str, Any],
    analysis_fps: float,
    workers: int | None,
    processes: int = 1,
) -> EdgeConfig:
    """One center with ``cameras`` looping real-time replays of ``video``."""
    return EdgeConfig.model_validate(
        {
            "analytics_workers": workers,
            "processes": processes,
            "centers": [
                {
                    "id": "bench-center",
                    "name": "Capacity bench",
                    **PLACE,
                    "cameras": [
                        {
                            "id": f"cam-{i:03d}",
                            "name": f"Replay {i}",
                            **PLACE,
                            "source": {"type": "file", "path": str(video), "loop": True, "realtime": True},
                            "detector": detector,
                            "analysis_fps": analysis_fps,
                        }
                        for i in range(cameras)
                    ],
                }
            ],
        }
    )


def _totals(health: Sequence[CameraHealth]) -> dict[str, float]:
    return {
        "dropped": sum(h.frames_dropped for h in health),
        "errors": sum(h.analytics_errors for h in health),
        "frames": sum(h.detector.get("frames", 0.0) for h in health),
        "inferences": sum(h.detector.get("inferences", 0.0) for h in health),
    }


def _wait_all_analysing(node: Node, limit_s: float) -> None:
    """Until every camera has analysed a frame (bounded): the warm-up starts from there."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and not all(h.frames_processed > 0 for h in node.health()):
        time.sleep(0.2)


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of ``pids`` (this process and the node's worker processes)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def run_trial(mode: str, cameras: int, args: argparse.Namespace) -> Trial:
    """Run ``cameras`` cameras of ``mode`` on one node and measure them after the warm-up."""
    detector = detector_config(mode, args.model, args.threads, args.max_skip_s, args.gate_downscale)
    node = create_node(
        edge_config(cameras, args.video, detector, args.analysis_fps, args.workers, args.processes),
        _discard,
        _no_lookup,
    )
    load_avg = os.getloadavg()[0]
    try:
        node.start(stagger_s=min(args.stagger_s, args.max_spread_s / max(cameras - 1, 1)))
        _wait_all_analysing(node, limit_s=60.0)  # worker processes import and load models first
        time.sleep(args.warmup_s)
        before = node.health()
        pids = [os.getpid(), *getattr(node, "pids", [])]
        cpu_before, wall_before = _cpu_seconds(pids), time.monotonic()
        time.sleep(args.trial_s)
        after = node.health()
        cpu, wall = _cpu_seconds(pids) - cpu_before, time.monotonic() - wall_before
    finally:
        node.stop()
    processed = {h.camera_id: h.frames_processed for h in before}
    fps = [(h.frames_processed - processed[h.camera_id]) / wall for h in after]
    start, end = _totals(before), _totals(after)
    frames = end["frames"] - start["frames"]
    return Trial(
        mode=mode,
        cameras=cameras,
        fps_min=min(fps),
        fps_mean=sum(fps) / len(fps),
        dropped=int(end["dropped"] - start["dropped"]),
        errors=int(end["errors"] - start["errors"]),
        inferences_per_frame=(end["inferences"] - start["inferences"]) / frames if frames else 0.0,
        cpu_percent=100.0 * cpu / wall / (os.cpu_count() or 1),
        load_avg=load_avg,
        min_fps=args.min_fps,
    )


def _row(trial: Trial) -> str:
    verdict = "ok" if trial.passed else "FAIL"
    return (
        f"{trial.mode:8s} {trial.cameras:4d} {trial.fps_min:7.2f} {trial.fps_mean:8.2f} {trial.dropped:8d} "
        f"{trial.errors:6d} {trial.inferences_per_frame:9.2f} {trial.cpu_percent:6.0f} "
        f"{trial.load_avg:6.2f}  {verdict}"
    )


def find_capacities(args: argparse.Namespace) -> dict[str, int]:
    """Step camera counts up, modes interleaved; each mode's largest passing count before a failure."""
    counts = sorted({int(c) for c in args.counts.split(",") if c.strip()})
    capacity = dict.fromkeys(args.modes, 0)
    active = list(args.modes)
    deadline = time.monotonic() + args.budget_s
    print("mode     cams fps_min fps_mean  dropped errors inf/frame  cpu%  load1  result", flush=True)
    for cameras in counts:
        for mode in list(active):
            if time.monotonic() > deadline:
                print(f"time budget of {args.budget_s:.0f} s spent; capacities below are lower bounds")
                return capacity
            passed = False
            for _ in range(1 + args.retries):
                trial = run_trial(mode, cameras, args)
                print(_row(trial), flush=True)
                if trial.passed:
                    passed = True
                    break
            if passed:
                capacity[mode] = cameras
            else:
                active.remove(mode)
        if not active:
            break
    return capacity


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO.resolve())
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL.resolve())
    parser.add_argument("--counts", default=DEFAULT_COUNTS, help="camera counts to try, ascending")
    parser.add_argument(
        "--modes", type=lambda s: s.split(","), default=list(MODES), help="of default,gated,ungated,motion"
    )
    parser.add_argument("--analysis-fps", type=float, default=5.0)
    parser.add_argument("--min-fps", type=float, default=4.8, help="processed fps every camera must reach")
    parser.add_argument("--trial-s", type=float, default=10.0, help="measuring window per trial")
    parser.add_argument("--warmup-s", type=float, default=7.0, help="after the last camera started")
    parser.add_argument("--stagger-s", type=float, default=0.37, help="between two camera starts")
    parser.add_argument("--max-spread-s", type=float, default=3.0, help="cap on last start - first start")
    parser.add_argument("--retries", type=int, default=1, help="re-runs of a failing trial")
    parser.add_argument("--budget-s", type=float, default=1500.0, help="stop starting trials after this")
    parser.add_argument("--threads", type=int, default=1, help="ONNX intra-op threads (0: all cores)")
    parser.add_argument("--workers", type=int, default=None, help="analytics pool threads (default: cores)")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="edge.processes: worker processes the cameras are split across",
    )
    parser.add_argument("--cv-threads", type=int, default=0, help="cv2.setNumThreads (0: OpenCV default)")
    parser.add_argument("--max-skip-s", type=float, default=0.6, help="gated: gating.max_skip_s")
    parser.add_argument(
        "--gate-downscale", type=int, default=2, help="gated: gating.motion.downscale (MOG2 at size / this)"
    )
    args = parser.parse_args(argv)
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    args.threads = args.threads or None
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the capacity search and print the table and the capacities."""
    args = parse_args(argv)
    if args.cv_threads:
        cv2.setNumThreads(args.cv_threads)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(
        f"video {args.video.name}, {args.analysis_fps:g} fps analysed per camera, window {args.trial_s:g} s, "
        f"ONNX threads {args.threads or 'all cores'}, OpenCV threads {cv2.getNumThreads()}, "
        f"gated max_skip_s {args.max_skip_s:g}, gate downscale {args.gate_downscale}"
    )
    started = time.monotonic()
    capacity = find_capacities(args)
    spent = time.monotonic() - started
    print(f"\ncapacity (cameras at {args.analysis_fps:g} fps without drops), found in {spent:.0f} s:")
    for mode in args.modes:
        print(f"  {mode:8s} {capacity[mode]}")
    if capacity.get("gated") is not None and capacity.get("ungated"):
        print(f"  gated / ungated = {capacity['gated'] / capacity['ungated']:.2f}")


if __name__ == "__main__":
    main()
