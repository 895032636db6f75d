"""Cost of event clips at the edge on the real PETS 2009 clip: ring encoding, cutting, face masking.

    python bench/clips.py [--video PATH] [--frames N] [--events N] [--mask]

Decodes the clip (not counted), encodes every frame into the clip ring as a camera does (libx264
ultrafast, 640 px wide, CRF 30, a keyframe every 0.5 s) and cuts ``--events`` clips of 5 s + 10 s.
Prints CPU milliseconds per encoded frame, the share of one core that costs at the clip's frame rate,
CPU milliseconds per cut clip, clip bytes and bitrate. With ``--mask``, also CPU milliseconds per
frame of face masking (CenterFace, as the snapshots use) before encoding: the price of masking clips
that leave the owning center. Record results in docs/benchmarks.md.
"""

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np

from hwarang.edge.frame import Frame
from hwarang.edge.media.clips import Clip, ClipConfig, ClipRecorder

DEFAULT_VIDEO = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "video" / "vtest_opencv_orig.avi"
)


def decoded(path: Path, limit: int) -> tuple[list[Frame], float]:
    """Up to ``limit`` decoded frames (BGR, converted now) and the stream's frame rate."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    frames: list[Frame] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 10)
        for i, picture in enumerate(container.decode(stream)):
            if i >= limit:
                break
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            frames.append(Frame(image, i, i / fps, t0 + timedelta(seconds=i / fps)))
    return frames, fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=600, help="Frames to encode (bounded run).")
    parser.add_argument("--events", type=int, default=20, help="Clips to cut.")
    parser.add_argument("--mask", action="store_true", help="Also measure face masking per frame.")
    parser.add_argument(
        "--polygon-masks", action="store_true", help="Encode with a static privacy polygon (its cost)."
    )
    args = parser.parse_args()
    frames, fps = decoded(args.video, args.frames)
    polygon = [[(0.0, 0.0), (300.0, 0.0), (300.0, 200.0), (0.0, 200.0)]]
    config = ClipConfig(privacy_masks=polygon if args.polygon_masks else [])
    clips: list[Clip] = []
    recorder = ClipRecorder("bench", config, fps, lambda _keys, clip: clips.append(clip) if clip else None)
    step = max(1, (len(frames) - int(fps * config.post_s)) // max(1, args.events))
    due = {int(fps * config.pre_s) + k * step for k in range(args.events)}
    start = time.perf_counter()
    for frame in frames:
        if frame.index in due:
            recorder.request(frame.index, frame.pts_s)
        recorder.add_frame(frame)
    recorder.finish()
    wall = time.perf_counter() - start
    per_frame_ms = recorder.encode_cpu_s / max(1, recorder.frames) * 1000
    sizes = [c.ref.size for c in clips]
    durations = [c.ref.duration_s for c in clips]
    print(f"machine: {platform.processor() or platform.machine()}, video {args.video.name} at {fps:g} fps")
    print(f"ring: {recorder.frames} frames encoded in {wall:.1f} s wall")
    share = per_frame_ms * fps / 10
    print(f"encode CPU: {per_frame_ms:.2f} ms/frame = {share:.1f} % of one core at {fps:g} fps")
    print(
        f"clips: {len(clips)} cut, CPU {recorder.clip_cpu_s / max(1, len(clips)) * 1000:.1f} ms/clip, "
        f"{statistics.median(sizes) / 1e6:.2f} MB median, {statistics.median(durations):.1f} s median, "
        f"{statistics.median(s * 8 / d / 1000 for s, d in zip(sizes, durations, strict=True)):.0f} kbit/s"
    )
    if args.mask:
        from hwarang.edge.media.privacy import FaceMasker, PrivacyConfig

        masker = FaceMasker.from_config(PrivacyConfig(enabled=True))
        sample = frames[: min(100, len(frames))]
        cpu = time.process_time()
        for frame in sample:
            masker.mask_faces(frame.image)
        mask_ms = (time.process_time() - cpu) / len(sample) * 1000
        share = mask_ms * fps / 10
        print(f"face masking CPU: {mask_ms:.1f} ms/frame = {share:.0f} % of one core at {fps:g} fps")


if __name__ == "__main__":
    main()
