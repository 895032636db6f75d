"""Privacy masks hold in a camera's live view, also for a network camera whose H.264 is otherwise remuxed.

The camera is a stand-in for an RTSP camera: it yields bright frames and hands its own (unmasked)
H.264 packets to the worker's packet sink, as the RTSP source does. Without masks the worker remuxes
those packets; with a mask it must encode its masked frames instead, and the live stream's decoded
pictures are black inside the mask and bright outside.
"""

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import av
import numpy as np
import pytest

from hwarang.bus.livewire import MemoryLiveWire, lease_subject, video_subject
from hwarang.domain import Camera, GeoPoint
from hwarang.edge import camera_worker
from hwarang.edge.camera_worker import CameraWorker
from hwarang.edge.config import CameraConfig
from hwarang.edge.frame import Frame
from hwarang.edge.media.clips import ClipConfig, FrameEncoder, PacketSink
from hwarang.edge.sources.base import SourceStats

pytestmark = pytest.mark.timeout(60)

CAMERA = "rtsp-1"
MASK = [[0, 0], [160, 0], [160, 120], [0, 120]]  # the top-left quarter of a 320x240 picture


class H264Camera:
    """Bright frames at 25 fps, and the camera's own H.264 of them for a packet sink (unmasked)."""

    def __init__(self) -> None:
        self._sink: PacketSink | None = None
        self._encoder = FrameEncoder(ClipConfig(), 25.0)
        self._stop = threading.Event()
        self.camera_id, self.fps, self.size, self.stats = CAMERA, 25.0, (320, 240), SourceStats()

    def set_packet_sink(self, sink: PacketSink | None) -> bool:
        self._sink = sink
        return True

    def open(self) -> None:
        """Nothing to open."""

    def frames(self) -> Iterator[Frame]:
        for index in range(1500):  # bounded: a minute
            if self._stop.wait(0.04):
                return
            image = np.full((240, 320, 3), 200, np.uint8)
            image[:, (index * 5) % 320] = (0, 0, 255)  # motion, so the picture is not static
            frame = Frame(image, index=index, pts_s=index / 25, wall_time=datetime.now(UTC))
            if self._sink is not None:
                for packet in self._encoder.encode(frame):
                    self._sink(packet, self._encoder.size)
            yield frame

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()


def _config(masks: list[list[list[int]]]) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": CAMERA,
            "name": "rtsp stand-in",
            "position": {"lat": 37.47, "lon": 126.61},
            "source": {"type": "synthetic", "fps": 25},  # replaced by H264Camera below
            "detector": {"type": "motion"},
            "clips": {"privacy_masks": masks},
        }
    )


def _live_pictures(
    monkeypatch: pytest.MonkeyPatch, masks: list[list[list[int]]]
) -> tuple[list[Any], str | None]:
    """Decoded pictures of the camera's live stream while leased, and the worker's clip mode."""
    monkeypatch.setattr(camera_worker, "build_source", lambda _config, camera_id: H264Camera())
    wire = MemoryLiveWire()
    chunks: list[bytes] = []
    got = threading.Event()

    def on_video(_subject: str, data: bytes) -> None:
        chunks.append(data)
        if len(chunks) >= 4:
            got.set()

    wire.subscribe(video_subject("c1", CAMERA), on_video)
    camera = Camera(
        id=CAMERA,
        center_id="c1",
        name="rtsp",
        position=GeoPoint(lat=37.47, lon=126.61),
        sido_code="28",
        sigungu_code="28110",
    )
    worker = CameraWorker(camera, _config(masks), lambda _m: None, clips=lambda _m, _c: None, live_wire=wire)
    worker.start()
    try:
        for _ in range(100):  # the hub's renewals, bounded
            wire.publish(lease_subject("c1", CAMERA), b"")
            if got.wait(0.2):
                break
        mode = worker.health().clip_mode
    finally:
        worker.stop()
    assert got.is_set(), "no live fragments while leased"
    with av.open(io.BytesIO(b"".join(chunks)), "r") as container:
        pictures = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    return pictures, mode


def test_masked_pixels_are_black_in_the_live_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    pictures, mode = _live_pictures(monkeypatch, [MASK])
    assert mode == "encode" and len(pictures) >= 10  # masked: encoded, not remuxed
    for picture in pictures:
        assert picture.shape == (240, 320)
        assert float(picture[4:116, 4:156].max()) < 24  # inside the mask: black (codec noise aside)
        assert float(picture[130:, 170:].mean()) > 150  # outside: the bright scene


def test_without_masks_the_cameras_own_stream_is_remuxed(monkeypatch: pytest.MonkeyPatch) -> None:
    pictures, mode = _live_pictures(monkeypatch, [])
    assert mode == "remux" and len(pictures) >= 10
    assert float(pictures[-1][4:116, 4:156].mean()) > 150  # nothing blacked out
