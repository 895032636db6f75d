"""The latency stamp survives the clip encoder's H.264 and is read back from the decoded frame."""

import io
from datetime import UTC, datetime

import av
import numpy as np

from hwarang.edge.frame import Frame
from hwarang.edge.media.clips import ClipConfig, FrameEncoder
from hwarang.edge.media.fmp4 import FragmentMuxer
from hwarang.edge.sources.stamp import age_ms, draw_stamp, read_stamp
from hwarang.edge.sources.synthetic import SyntheticSource, SyntheticSourceConfig


def test_a_stamp_reads_back_after_h264() -> None:
    encoder = FrameEncoder(ClipConfig(), 10.0)
    chunks: list[bytes] = []
    muxer = FragmentMuxer(10.0, chunks.append)
    rng = np.random.default_rng(1)
    for index in range(30):
        image = rng.integers(0, 255, (360, 960, 3), dtype=np.uint8)
        draw_stamp(image, 65530 + index, 2**32 - 15 + index * 100)
        frame = Frame(image, index=index, pts_s=index / 10, wall_time=datetime.now(UTC))
        for packet in encoder.encode(frame):
            muxer.add(packet, encoder.size)
    for packet in encoder.flush():
        muxer.add(packet, encoder.size)
    muxer.close()
    with av.open(io.BytesIO(b"".join(chunks)), "r") as container:
        stamps = [read_stamp(f.to_ndarray(format="gray")) for f in container.decode(video=0)]
    assert len(stamps) >= 20
    assert stamps[:3] == [(65530, 2**32 - 15), (65531, 85), (65532, 185)]  # both wrap
    assert read_stamp(np.zeros((360, 960), np.uint8)) is None
    assert age_ms(2**32 - 15, 85) == 100


def test_the_synthetic_camera_stamps_when_asked() -> None:
    source = SyntheticSource(SyntheticSourceConfig(stamp=True, realtime=False, duration_s=0.3), camera_id="c")
    frames = list(source.frames())
    gray = [f.image.mean(axis=2).astype(np.uint8) for f in frames]
    assert [s[0] for s in map(read_stamp, gray) if s is not None] == [0, 1, 2]
