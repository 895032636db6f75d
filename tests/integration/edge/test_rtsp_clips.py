"""Clips of an RTSP H.264 camera are remuxed from its packets as received, never re-encoded."""

import io
import time
from pathlib import Path

import av
import pytest

from hwarang.config import load_config
from hwarang.domain import AdminLocation, EventMessage
from hwarang.edge.config import EdgeConfig
from hwarang.edge.media.clips import Clip
from hwarang.edge.node import EdgeNode
from hwarang.edge.sources.file import FileSourceConfig
from tests.integration.edge.rtsp_support import RtspServerProcess

pytestmark = pytest.mark.integration


def _no_lookup(lat: float, lon: float) -> AdminLocation | None:
    return None


def _demo_rules() -> list[dict[str, object]]:
    """The vtest camera's rules from the built-in demo configuration (they fire on vtest)."""
    camera = next(
        cam
        for c in load_config(None).edge.centers
        for cam in c.cameras
        if isinstance(cam.source, FileSourceConfig)
    )
    return [rule.model_dump(mode="json") for rule in camera.rules]


def test_an_rtsp_camera_s_clips_are_its_own_h264_remuxed(vtest_path: Path) -> None:
    place = {"position": {"lat": 37.47, "lon": 126.62}, "sido_code": "28", "sigungu_code": "28110"}
    published: list[EventMessage] = []
    cut: list[tuple[list[EventMessage], Clip]] = []
    with RtspServerProcess(vtest_path) as server:
        config = EdgeConfig.model_validate(
            {
                "centers": [
                    {
                        "id": "incheon-junggu",
                        "name": "인천광역시 중구 통합관제센터",
                        **place,
                        "cameras": [
                            {
                                "id": "harbour-rtsp",
                                "name": "Harbour gate (RTSP)",
                                **place,
                                "source": {"type": "rtsp", "url": server.url, "read_timeout_s": 5.0},
                                "rules": _demo_rules(),
                                "clips": {"pre_s": 2.0, "post_s": 2.0},
                            }
                        ],
                    }
                ]
            }
        )
        node = EdgeNode(config, published.append, _no_lookup, clips=lambda m, c: cut.append((m, c)))
        node.start()
        try:
            deadline = time.monotonic() + 60
            while not cut and time.monotonic() < deadline:
                time.sleep(0.2)
            assert node.health()[0].clip_mode == "remux"
        finally:
            node.stop()
    assert cut, f"no clip within 60 s ({len(published)} events)"
    messages, clip = cut[0]
    assert {m.event.id for m in messages} <= {m.event.id for m in published}
    assert (clip.ref.width, clip.ref.height) == (768, 576)  # the camera's own picture, not re-encoded
    with av.open(io.BytesIO(clip.data), mode="r") as container:
        frames = [f for f in container.decode(video=0)]
    assert (frames[0].width, frames[0].height) == (768, 576)
    assert 2.0 <= len(frames) / 10.0 <= 4.0 + 1.5  # pre + post at 10 fps, from the keyframe before
    assert clip.ref.start <= messages[0].event.occurred_at <= clip.ref.end
