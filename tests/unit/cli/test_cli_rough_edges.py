"""Issue 17's rough edges at the command line: a clear message, a non-zero exit, no traceback."""

import logging
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from hwarang.cli import app

CLIP_FRAMES = 60


@pytest.fixture(autouse=True)
def _keep_root_log_level() -> Iterator[None]:
    """``analyze`` sets the root logger's level; give other tests theirs back."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def _clip(path: Path, frames: int = CLIP_FRAMES) -> Path:
    """A small MPEG-4 AVI whose frames vary (so every packet carries data)."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        rng = np.random.default_rng(7)
        for _ in range(frames):
            image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _motion_site(tmp_path: Path, video: Path) -> Path:
    """The demo configuration with the file camera on VIDEO and the motion-only detector (fast)."""
    code, text, _err = _invoke("config", "show-default")
    assert code == 0
    data = yaml.safe_load(text)
    camera = data["edge"]["centers"][0]["cameras"][0]
    camera["source"]["path"] = str(video)
    camera["detector"] = {"type": "motion"}
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return site


def test_analyze_a_clean_clip_exits_0(tmp_path: Path) -> None:
    video = _clip(tmp_path / "clean.avi")
    site = _motion_site(tmp_path, video)
    code, out, err = _invoke(
        "analyze", str(video), "--out", str(tmp_path / "ev.jsonl"), "--config", str(site)
    )
    assert code == 0, err
    assert f"{CLIP_FRAMES} frames (160x120)" in out


def test_analyze_a_truncated_clip_exits_1_saying_where(tmp_path: Path) -> None:
    whole = _clip(tmp_path / "whole.avi").read_bytes()
    video = tmp_path / "cut.avi"
    video.write_bytes(whole[: len(whole) // 2])
    site = _motion_site(tmp_path, video)
    out_file = tmp_path / "ev.jsonl"
    code, _out, err = _invoke("analyze", str(video), "--out", str(out_file), "--config", str(site))
    assert code == 1
    assert f"{video} is truncated: " in err
    assert f" of {CLIP_FRAMES} frames decoded" in err and "it stops after frame" in err
    assert out_file.is_file(), "the events found before the damage are kept"


def test_config_check_warns_of_a_missing_video_file(tmp_path: Path) -> None:
    site = _motion_site(tmp_path, Path("/no/such/video.avi"))
    code, out, err = _invoke("config", "check", str(site))
    assert code == 0  # valid: the file may appear later; the camera is down until then
    assert "1 warning(s)" in out
    assert (
        "edge.centers.0.cameras.0.source.path: video file not found: /no/such/video.avi "
        "(camera icn-harbour-plaza-01 will be down until the file exists)"
    ) in err


def test_a_mistyped_detector_type_lists_the_choices(tmp_path: Path) -> None:
    video = _clip(tmp_path / "clip.avi", frames=5)
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,10,10,20,40,1,1,1\n", encoding="utf-8")
    code, _out, err = _invoke("eval", "mot", str(video), str(gt), "--detector", "{type: onnx-yolov}")
    assert code == 2
    assert "type: unknown type 'onnx-yolov'; choose among: motion, onnx-nanodet, onnx-yolox" in err
    assert "tagged-union" not in err and "errors.pydantic.dev" not in err


def test_a_mistyped_detector_key_lists_the_keys_of_that_detector(tmp_path: Path) -> None:
    video = _clip(tmp_path / "clip.avi", frames=5)
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,10,10,20,40,1,1,1\n", encoding="utf-8")
    code, _out, err = _invoke("eval", "mot", str(video), str(gt), "--detector", "{min_confidenc: 0.3}")
    assert code == 2
    assert "min_confidenc: unknown key (got 0.3); allowed keys here: " in err
    assert "min_confidence" in err.split("allowed keys here:")[1]


def test_the_shipped_video_scenario_validates_against_the_shipped_demo_config(tmp_path: Path) -> None:
    code, text, _err = _invoke("config", "show-default")
    site = tmp_path / "site.yaml"
    site.write_text(text, encoding="utf-8")
    scenario = Path(__file__).resolve().parents[3] / "src/hwarang/exercise/scenarios/vtest-plaza.yaml"
    code, out, err = _invoke("exercise", "validate", "--config", str(site), str(scenario))
    assert code == 0, err
    assert "vtest-plaza.yaml: ok" in out


def test_regions_carry_todays_codes_for_gangwon_and_jeonbuk() -> None:
    code, out, _err = _invoke("regions", "list")
    assert code == 0
    assert "51" in out and "강원특별자치도" in out and "전북특별자치도" in out
    assert "전라북도" not in out
