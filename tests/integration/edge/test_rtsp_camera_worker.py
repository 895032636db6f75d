"""An edge node with an RTSP camera and a file camera: the RTSP server dies and returns."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hwarang.domain import AdminLocation, EventMessage
from hwarang.edge.config import EdgeConfig
from hwarang.edge.health import CameraHealth, CameraState
from hwarang.edge.node import EdgeNode
from tests.integration.edge.rtsp_support import RtspServerProcess

pytestmark = pytest.mark.integration

DOWN_S = 5.0


def _no_lookup(lat: float, lon: float) -> AdminLocation | None:
    return None


def _node(rtsp_url: str, video: Path, published: list[EventMessage]) -> EdgeNode:
    place = {"position": {"lat": 37.47, "lon": 126.62}, "sido_code": "28", "sigungu_code": "28110"}
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
                            "source": {
                                "type": "rtsp",
                                "url": rtsp_url,
                                "reconnect_initial_s": 0.25,
                                "reconnect_max_s": 1.0,
                                "read_timeout_s": 3.0,
                            },
                            "detector": {"type": "motion"},  # reconnection under test, not detection
                        },
                        {
                            "id": "pier-file",
                            "name": "Pier (file)",
                            **place,
                            "source": {"type": "file", "path": str(video), "loop": True},
                            "detector": {"type": "motion"},
                        },
                    ],
                }
            ]
        }
    )
    return EdgeNode(config, published.append, _no_lookup)


def _health(node: EdgeNode) -> dict[str, CameraHealth]:
    return {h.camera_id: h for h in node.health()}


def _wait_for(node: EdgeNode, check: Callable[[dict[str, CameraHealth]], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check(_health(node)):
            return True
        time.sleep(0.1)
    return False


def test_the_file_camera_keeps_running_while_the_rtsp_server_is_away(vtest_path: Path) -> None:
    published: list[EventMessage] = []
    with RtspServerProcess(vtest_path) as server:
        node = _node(server.url, vtest_path, published)
        node.start()
        try:
            assert _wait_for(node, lambda h: h["harbour-rtsp"].frames_processed >= 10, 25.0), _health(node)
            up = _health(node)["harbour-rtsp"]
            assert up.connected and up.state == CameraState.RUNNING and up.outages == 0

            server.kill()
            assert _wait_for(node, lambda h: not h["harbour-rtsp"].connected, 5.0)
            down_at = time.monotonic()
            rtsp_frames = _health(node)["harbour-rtsp"].frames_in
            file_before = _health(node)["pier-file"].frames_processed
            time.sleep(DOWN_S)
            during = _health(node)
            rtsp, file = during["harbour-rtsp"], during["pier-file"]
            assert rtsp.state == CameraState.RETRYING and not rtsp.connected
            assert rtsp.frames_in == rtsp_frames
            assert rtsp.outages == 1 and rtsp.last_outage_start is not None and rtsp.last_outage_end is None
            assert rtsp.last_outage_s is not None and rtsp.last_outage_s >= DOWN_S
            assert "Connection refused" in (rtsp.last_error or "")
            # the file camera is paced at 10 fps: about 50 frames in 5 s, whatever the RTSP camera does
            assert file.frames_processed - file_before >= 0.5 * 10 * DOWN_S
            assert file.state == CameraState.RUNNING and file.connected

            server.start()
            back = _wait_for(node, lambda h: h["harbour-rtsp"].frames_in >= rtsp_frames + 10, 20.0)
            assert back, _health(node)
            gap_s = time.monotonic() - down_at
            after = _health(node)["harbour-rtsp"]
        finally:
            node.stop()
    assert not _health(node)["harbour-rtsp"].connected  # stopped
    assert after.reconnects >= 1 and after.outages == 1 and after.connected
    assert after.last_outage_start is not None and after.last_outage_end is not None
    assert after.last_outage_s is not None and DOWN_S <= after.last_outage_s <= gap_s + 1.0
    assert after.outage_total_s == pytest.approx(after.last_outage_s, abs=0.01)
    assert after.frames_processed > 10 and after.analytics_errors == 0
