"""Small generated clips for source unit tests (the real clips are for integration tests)."""

from pathlib import Path

import av
import numpy as np

CLIP_FRAMES = 40
CLIP_FPS = 20
CLIP_SIZE = (160, 120)


def write_clip(path: Path, frames: int = CLIP_FRAMES, fps: int = CLIP_FPS) -> Path:
    """Encode a short MPEG-4 clip whose frame i has brightness 5 * i."""
    width, height = CLIP_SIZE
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            image = np.full((height, width, 3), (5 * i) % 256, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
