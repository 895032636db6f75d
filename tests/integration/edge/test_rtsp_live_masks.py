"""A masked RTSP camera's live view over the loopback RTSP server: the mask is black in what is sent."""

import io
import threading
from pathlib import Path

import av
import pytest

from hwarang.bus.livewire import MemoryLiveWire, lease_subject, video_subject
from hwarang.domain import Camera, GeoPoint
from hwarang.edge.camera_worker import CameraWorker
from hwarang.edge.config import CameraConfig
from tests.integration.edge.rtsp_support import RtspServerProcess

pytestmark = pytest.mark.integration

CAMERA = "harbour-rtsp"
MASK = [[0, 0], [300, 0], [300, 200], [0, 200]]  # source pixels of the 768x576 camera


def test_a_masked_rtsp_camera_s_live_view_is_encoded_with_the_mask_black(vtest_path: Path) -> None:
    place = {"lat": 37.47, "lon": 126.62}
    wire = MemoryLiveWire()
    chunks: list[bytes] = []
    enough = threading.Event()

    def on_video(_subject: str, data: bytes) -> None:
        chunks.append(data)
        if len(chunks) >= 6:
            enough.set()

    wire.subscribe(video_subject("incheon-junggu", CAMERA), on_video)
    with RtspServerProcess(vtest_path) as server:
        config = CameraConfig.model_validate(
            {
                "id": CAMERA,
                "name": "Harbour gate (RTSP)",
                "position": place,
                "source": {"type": "rtsp", "url": server.url, "read_timeout_s": 5.0},
                "detector": {"type": "motion"},
                "clips": {"privacy_masks": [MASK]},
            }
        )
        camera = Camera(
            id=CAMERA,
            center_id="incheon-junggu",
            name="Harbour gate",
            position=GeoPoint(**place),
            sido_code="28",
            sigungu_code="28110",
        )
        worker = CameraWorker(camera, config, lambda _m: None, clips=lambda _m, _c: None, live_wire=wire)
        worker.start()
        try:
            for _ in range(150):  # the hub's renewals, bounded (30 s)
                wire.publish(lease_subject("incheon-junggu", CAMERA), b"")
                if enough.wait(0.2):
                    break
            mode = worker.health().clip_mode
        finally:
            worker.stop()
    assert enough.is_set(), "no live fragments while leased"
    assert mode == "encode"  # masked: the camera's own H.264 is not remuxed
    with av.open(io.BytesIO(b"".join(chunks)), "r") as container:
        pictures = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    assert len(pictures) >= 10 and pictures[0].shape == (480, 640)  # the encoded ring's 640 px
    scale = 640 / 768
    inside = (slice(2, int(200 * scale) - 2), slice(2, int(300 * scale) - 2))
    for picture in pictures:
        assert float(picture[inside].max()) < 24  # black, codec noise aside
        assert float(picture[240:, 320:].mean()) > 40  # the scene outside the mask
