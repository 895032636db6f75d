"""The live view of an RTSP camera: a demo whose vtest camera is an RTSP H.264 stream on loopback.

The RTSP server (``tests/integration/edge/rtsp_support.py``) serves the PETS 2009 clip as H.264; the
demo's camera reads it, and its live view remuxes the camera's own packets (no re-encoding: the page
gets the camera's full 768x576 pictures, not the 640 px of an encoded ring). Opened from the map's
camera popup by the admin, the video's ``currentTime`` advances.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hwarang.config.loader import default_config_text
from tests.e2e.cop_support import login, wait_map_ready
from tests.e2e.demo_support import DemoServer, running_demo
from tests.e2e.live_support import VTEST_CAMERA, open_camera_live, video_advances
from tests.integration.edge.rtsp_support import RtspServerProcess

pytestmark = pytest.mark.e2e

FILE_SOURCE = """          source:
            type: file
            path: ${HWARANG_DEMO_VIDEO:-var/media/vtest.avi}
            realtime: true
            loop: true
"""


@pytest.fixture(scope="module")
def rtsp_demo(tmp_path_factory: pytest.TempPathFactory, vtest_path: Path) -> Iterator[DemoServer]:
    data_dir = tmp_path_factory.mktemp("rtsp-demo")
    with RtspServerProcess(vtest_path) as server:
        text = default_config_text()
        assert FILE_SOURCE in text, "the demo's vtest camera source changed"
        config = data_dir / "site.yaml"
        rtsp = f"          source: {{type: rtsp, url: '{server.url}'}}\n"
        config.write_text(text.replace(FILE_SOURCE, rtsp, 1), encoding="utf-8")
        with running_demo(data_dir, vtest_path, config=config) as demo:
            yield demo


def test_live_view_of_an_rtsp_camera_plays_its_own_stream(rtsp_demo: DemoServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        login(page, rtsp_demo.base_url, rtsp_demo.password)
        wait_map_ready(page)
        open_camera_live(page, VTEST_CAMERA)
        window = page.get_by_test_id("camera-live")
        expect(window.get_by_test_id("live-box")).to_have_attribute(
            "data-live-state", "playing", timeout=20000
        )
        video_advances(page, 1.0)
        video = window.get_by_test_id("live-video").element_handle()
        assert page.evaluate("(v) => [v.videoWidth, v.videoHeight]", video) == [768, 576]  # remuxed as sent
        page.get_by_test_id("camera-popup").get_by_test_id("camera-live-button").click()  # again: keeps on
        expect(window.get_by_test_id("live-box")).to_have_attribute("data-live-state", "playing")
        video_advances(page, 0.5)
        health = page.request.get(rtsp_demo.base_url + "/api/v1/health").json()
        assert health["extra"]["live_video"][VTEST_CAMERA]["bytes_sent"] > 0
    finally:
        context.close()
