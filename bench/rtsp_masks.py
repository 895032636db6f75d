"""What privacy masks cost a network camera's live view: remux of its own H.264 vs decode, mask, re-encode.

    python bench/rtsp_masks.py [--video PATH] [--frames N] [--width W]

The camera is simulated from the real PETS 2009 clip (resized to ``--width`` when given): its frames
are encoded once to H.264 as the camera would send them (not counted). Then, per frame, in CPU
milliseconds (``time.process_time``, all threads):

- **remux**: the camera's packet into the live fMP4 muxer (a camera without masks);
- **decode**: the camera's packet to a BGR picture, which the edge pays anyway for its analytics;
- **mask + encode**: the privacy polygon filled black and the picture encoded as the clip ring does
  (libx264 ultrafast, zerolatency, 640 px wide, CRF 33) and muxed to fMP4 (a camera with masks).

Prints each and the share of one core at the clip's frame rate. Record results in docs/benchmarks.md.
"""

import argparse
import platform
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np

from hwarang.edge.frame import Frame
from hwarang.edge.media.clips import ClipConfig, EncodedPacket, FrameEncoder
from hwarang.edge.media.fmp4 import FragmentMuxer

DEFAULT_VIDEO = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "video" / "vtest_opencv_orig.avi"
)
MASK = [[(0.0, 0.0), (300.0, 0.0), (300.0, 200.0), (0.0, 200.0)]]


def camera_stream(
    path: Path, limit: int, width: int | None
) -> tuple[list[EncodedPacket], tuple[int, int], float]:
    """The clip as a camera's H.264 packets (full size, a keyframe a second), its size and frame rate."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    packets: list[EncodedPacket] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 10)
        encoder: FrameEncoder | None = None
        for i, picture in enumerate(container.decode(stream)):
            if i >= limit:
                break
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            if width is not None:
                height = round(image.shape[0] * width / image.shape[1]) // 2 * 2
                image = np.asarray(cv2.resize(image, (width, height)), dtype=np.uint8)
            if encoder is None:
                encoder = FrameEncoder(ClipConfig(max_width=image.shape[1], crf=23, gop_s=1.0), fps)
            packets += encoder.encode(Frame(image, i, i / fps, t0 + timedelta(seconds=i / fps)))
        assert encoder is not None, f"no frames in {path}"
        packets += encoder.flush()
        return packets, encoder.size, fps


def cpu_ms_per(count: int, started: float) -> float:
    """CPU milliseconds per item since ``started`` (a ``process_time``)."""
    return (time.process_time() - started) / max(1, count) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=400, help="Frames to measure (bounded run).")
    parser.add_argument("--width", type=int, default=None, help="Resize the camera's pictures to this width.")
    args = parser.parse_args()
    packets, size, fps = camera_stream(args.video, args.frames, args.width)
    sent = [0]

    def count(data: bytes) -> None:
        sent[0] += len(data)

    started = time.process_time()
    remux = FragmentMuxer(fps, count)
    for packet in packets:
        remux.add(packet, size)
    remux_ms = cpu_ms_per(len(packets), started)

    started = time.process_time()
    decoder = av.CodecContext.create("h264", "r")
    frames: list[Frame] = []
    for packet in packets:
        for picture in decoder.decode(av.Packet(packet.data)):
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            frames.append(Frame(image, len(frames), packet.pts_s, packet.wall_time))
    decode_ms = cpu_ms_per(len(frames), started)

    started = time.process_time()
    encoder = FrameEncoder(ClipConfig(privacy_masks=MASK), fps)
    masked = FragmentMuxer(fps, count)
    for frame in frames:
        for packet in encoder.encode(frame):
            masked.add(packet, encoder.size)
    mask_ms = cpu_ms_per(len(frames), started)

    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{args.video.name} as a {size[0]}x{size[1]} camera"
    )
    print(f"frames: {len(packets)} packets, {len(frames)} decoded, at {fps:g} fps")
    for name, ms in (
        ("remux", remux_ms),
        ("decode (paid for analytics)", decode_ms),
        ("mask + encode", mask_ms),
    ):
        print(f"{name}: {ms:.2f} ms CPU/frame = {ms * fps / 10:.2f} % of one core at {fps:g} fps")


if __name__ == "__main__":
    main()
