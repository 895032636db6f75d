"""One bad camera (a file that is not a model, a truncated video) never stops the node's other cameras."""

import time
from pathlib import Path

import pytest

from hwarang.domain import AdminLocation, EventMessage
from hwarang.edge.config import EdgeConfig
from hwarang.edge.health import CameraHealth, CameraState
from hwarang.edge.node import EdgeNode

pytestmark = pytest.mark.integration


def _lookup(lat: float, lon: float) -> AdminLocation:
    return AdminLocation(sido_code="51", sido_name="강원", sigungu_code="51820", sigungu_name="고성군")


def _camera(
    camera_id: str, source: dict[str, object], detector: dict[str, object] | None = None
) -> dict[str, object]:
    camera: dict[str, object] = {
        "id": camera_id,
        "name": camera_id,
        "position": {"lat": 38.38, "lon": 128.47},
        "source": source,
        "rules": [
            {"type": "zone_intrusion", "name": "zone", "polygon": [[0, 0], [960, 0], [960, 540], [0, 540]]}
        ],
    }
    if detector is not None:
        camera["detector"] = detector
    return camera


def _health(node: EdgeNode) -> dict[str, CameraHealth]:
    return {h.camera_id: h for h in node.health()}


def _wait(node: EdgeNode, check, timeout_s: float) -> dict[str, CameraHealth]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        health = _health(node)
        if check(health):
            return health
        time.sleep(0.1)
    return _health(node)


def test_bad_model_and_truncated_video_fail_alone(tmp_path: Path, vtest_path: Path) -> None:
    not_a_model = tmp_path / "not-a-model.onnx"
    not_a_model.write_text("this is not an ONNX model\n", encoding="utf-8")
    truncated = tmp_path / "truncated.avi"
    data = vtest_path.read_bytes()
    truncated.write_bytes(data[: int(len(data) * 0.6)])
    synthetic = {"type": "synthetic", "fps": 10, "seed": 4, "realtime": True, "speed": 4.0}
    config = EdgeConfig.model_validate(
        {
            "centers": [
                {
                    "id": "c1",
                    "name": "center",
                    "cameras": [
                        _camera("good", synthetic),
                        _camera(
                            "bad-model", synthetic, {"type": "onnx-yolox", "model_path": str(not_a_model)}
                        ),
                        _camera(
                            "truncated",
                            {"type": "file", "path": str(truncated), "realtime": True, "speed": 8.0},
                        ),
                    ],
                }
            ]
        }
    )
    published: list[EventMessage] = []
    node = EdgeNode(config, published.append, _lookup)
    node.start()
    try:
        health = _wait(node, lambda h: h["bad-model"].state == CameraState.FAILED, 20)
        bad = health["bad-model"]
        assert bad.state == CameraState.FAILED
        assert bad.last_error is not None and "not-a-model.onnx" in bad.last_error
        processed_then = health["good"].frames_processed
        health = _wait(node, lambda h: h["truncated"].state == CameraState.FINISHED, 60)
        assert health["truncated"].state == CameraState.FINISHED
        assert health["truncated"].decode_errors >= 1
        # Decoding goes on past the damage: most of the file's ~470 frames are read (how many of them
        # the detector gets at 8x real time depends on the machine's load: the newest frame wins).
        assert health["truncated"].frames_in > 300, "most of the truncated file is still read"
        assert health["truncated"].frames_processed > 0
        assert health["good"].frames_processed > processed_then, "the good camera kept running"
        assert health["good"].state == CameraState.RUNNING
        assert _health(node)["bad-model"].frames_processed == 0
    finally:
        node.stop()
    assert all(m.event.camera_id != "bad-model" for m in published)
