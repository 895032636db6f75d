"""Throughput of the offline analyzer on the real PETS 2009 clip, against plain decoding in the same run.

    python bench/analyze_fps.py [--video PATH] [--repeat N]

Prints decode-only frames/s (the baseline), full pipeline frames/s (decode + the default configuration's
detector, i.e. NanoDet motion-gated, + tracker + rules + snapshots), their ratio, and events per run.
Record results in docs/benchmarks.md.
"""

import argparse
import platform
import statistics
import time
from pathlib import Path

import av

from hwarang.config import load_config
from hwarang.edge.camera_setup import build_camera, build_center
from hwarang.edge.offline import analyze_file
from hwarang.edge.sources.file import FileSourceConfig
from hwarang.geo.regions import default_catalog

DEFAULT_VIDEO = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "video" / "vtest_opencv_orig.avi"
)


def decode_only(path: Path) -> tuple[int, float]:
    """Frames and seconds to decode ``path`` to BGR arrays with PyAV (the baseline)."""
    start = time.perf_counter()
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="bgr24")
            frames += 1
    return frames, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO.resolve())
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median reported)")
    args = parser.parse_args()

    config = load_config(None)
    center_cfg, cam_cfg = next(
        (c, cam) for c in config.edge.centers for cam in c.cameras if isinstance(cam.source, FileSourceConfig)
    )
    lookup = default_catalog().lookup
    camera = build_camera(cam_cfg, build_center(center_cfg, lookup), lookup)

    decode_fps, pipeline_fps, events = [], [], []
    for _ in range(args.repeat):
        n, secs = decode_only(args.video)
        decode_fps.append(n / secs)
        result = analyze_file(camera, cam_cfg, args.video, lambda _message: None)
        pipeline_fps.append(result.fps)
        events.append(result.events)
    d, p = statistics.median(decode_fps), statistics.median(pipeline_fps)
    print(f"machine: {platform.machine()}, python {platform.python_version()}, video {args.video.name}")
    print(f"decode only (PyAV -> BGR):          {d:8.1f} frames/s")
    print(f"hwarang analyze pipeline ({cam_cfg.detector.type}): {p:8.1f} frames/s  ({p / d:.2f} x decode)")
    print(f"events per run:                     {events}")
    print(f"real-time cameras of this clip (10 fps) one process keeps up with: {p / 10.0:.1f}")


if __name__ == "__main__":
    main()
