"""The model store: import with hash and card, list, verified get, corruption, CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.edge.analytics.detectors import YoloxDetectorConfig, build_detector
from hwarang.edge.analytics.detectors.labels import COCO80_LABELS
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.frame import Frame
from hwarang.edge.models import ModelStore, ModelStoreError, sha256_file

OMZ = "models/omz/person-vehicle-bike-detection-2002/FP16/person-vehicle-bike-detection-2002.xml"


def test_import_list_get_and_detect_by_name(tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "models" / "yolox_nano.onnx"
    store = ModelStore(tmp_path / "store")
    card = store.import_model(source, name="yolox-nano", licence="Apache-2.0")
    assert card.runtime == "onnx" and card.input_shape == [1, 3, 416, 416]
    assert card.sha256 == sha256_file(source) and card.labels == list(COCO80_LABELS)
    assert card.source_path == str(source.resolve()) and card.licence == "Apache-2.0"
    saved = json.loads((tmp_path / "store" / "yolox-nano" / "card.json").read_text())
    assert saved["sha256"] == card.sha256 and saved["name"] == "yolox-nano"
    assert store.import_model(source, name="yolox-nano") == card  # same bytes: idempotent
    assert [c.name for c in store.list()] == ["yolox-nano"]
    entry = store.get("yolox-nano")
    assert entry.path == tmp_path / "store" / "yolox-nano" / "yolox_nano.onnx" and entry.path.is_file()
    detector = build_detector(
        YoloxDetectorConfig(type="onnx-yolox", model="yolox-nano", model_store=tmp_path / "store")
    )
    blank = Frame(image=np.zeros((100, 100, 3), np.uint8), index=0, pts_s=0.0, wall_time=card.imported_at)
    assert len(detector.detect(blank)) == 0
    with pytest.raises(ModelStoreError, match=r"no model 'yolox' in the model store .*known: yolox-nano"):
        store.get("yolox")


def test_corrupted_model_file_is_detected(tmp_path: Path, shared_data: Path) -> None:
    store = ModelStore(tmp_path)
    store.import_model(shared_data / "models" / "yolox_nano.onnx")
    stored = tmp_path / "yolox_nano" / "yolox_nano.onnx"
    with stored.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(
        AnalyticsError, match=r"model 'yolox_nano': .*yolox_nano\.onnx is corrupt or was changed"
    ):
        ModelStore(tmp_path).get("yolox_nano")
    with pytest.raises(ModelStoreError, match="already exists"):
        store.import_model(shared_data / "models" / "nanodet_m_416_kazuhito.onnx", name="yolox_nano")


def test_openvino_pair_and_non_models(tmp_path: Path, shared_data: Path) -> None:
    store = ModelStore(tmp_path)
    card = store.import_model(shared_data / OMZ, name="pvb-2002", labels=["vehicle", "person", "bike"])
    assert card.runtime == "openvino" and set(card.files) == {
        "person-vehicle-bike-detection-2002.xml",
        "person-vehicle-bike-detection-2002.bin",
    }
    assert card.input_shape == [1, 3, 512, 512] and card.labels == ["vehicle", "person", "bike"]
    assert store.get("pvb-2002").path.with_suffix(".bin").is_file()
    text = tmp_path / "notes.onnx"
    text.write_text("not a model")
    with pytest.raises(ModelStoreError, match=r"notes\.onnx is not a loadable ONNX model"):
        store.import_model(text)
    lonely = tmp_path / "lonely.xml"
    lonely.write_text("<net/>")
    with pytest.raises(ModelStoreError, match=r"lonely\.xml: the OpenVINO weights lonely\.bin are missing"):
        store.import_model(lonely)
    with pytest.raises(ModelStoreError, match="cannot tell the runtime"):
        store.import_model(shared_data / "img" / "dog.jpg")
    assert [c.name for c in store.list()] == ["pvb-2002"]


def test_cli_import_and_list(tmp_path: Path, shared_data: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "models")
    empty = runner.invoke(app, ["models", "list", "--store", store])
    assert empty.exit_code == 0 and "hwarang models import" in empty.output
    imported = runner.invoke(
        app, ["models", "import", str(shared_data / "models" / "yolox_nano.onnx"), "--store", store,
              "--name", "yolox", "--licence", "Apache-2.0"],
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    assert "imported yolox (onnx" in imported.output and "model: yolox" in imported.output
    listed = runner.invoke(app, ["models", "list", "--store", store, "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["licence"] == "Apache-2.0"
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00" * 64)
    failed = runner.invoke(app, ["models", "import", str(bad), "--store", store])
    assert failed.exit_code == 2 and "bad.onnx is not a loadable ONNX model" in failed.output
