"""Recognising model files: load them with their runtime and read input size and labels."""

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hwarang.edge.analytics.detectors.labels import COCO80_LABELS
from hwarang.edge.errors import AnalyticsError

Runtime = Literal["onnx", "openvino"]
RUNTIMES: tuple[Runtime, ...] = ("onnx", "openvino")


class ModelStoreError(AnalyticsError):
    """A model cannot be imported, found or trusted (not a model, unknown name, hash mismatch)."""


class ModelNotFoundError(ModelStoreError):
    """The store has no model of that name (``make models`` or ``hwarang models import`` adds one)."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What loading a model file revealed."""

    runtime: Runtime
    files: tuple[Path, ...]
    input_shape: tuple[int | str, ...]
    labels: tuple[str, ...] | None


def guess_runtime(path: Path) -> Runtime:
    """The runtime a file's extension implies (``.onnx``, ``.xml``), or ``ModelStoreError``."""
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix == ".xml":
        return "openvino"
    raise ModelStoreError(f"{path}: cannot tell the runtime from the extension {suffix!r}; pass --runtime")


def inspect_model(path: Path, runtime: Runtime | None = None) -> ModelInfo:
    """Load ``path`` with its runtime; raise one ``ModelStoreError`` naming the file if it is no model."""
    if not path.is_file():
        raise ModelStoreError(f"model file not found: {path}")
    runtime = runtime or guess_runtime(path)
    if runtime == "onnx":
        return _inspect_onnx(path)
    if runtime == "openvino":
        return _inspect_openvino(path)
    raise ModelStoreError(f"{path}: unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _inspect_onnx(path: Path) -> ModelInfo:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelStoreError(f"checking {path} needs the onnxruntime package: {exc}") from exc
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelStoreError(f"{path} is not a loadable ONNX model ({_first_line(exc)})") from exc
    shape = tuple(session.get_inputs()[0].shape)
    return ModelInfo(runtime="onnx", files=(path,), input_shape=shape, labels=_onnx_labels(session))


def _onnx_labels(session: Any) -> tuple[str, ...] | None:
    names = session.get_modelmeta().custom_metadata_map.get("names")
    if isinstance(names, str):
        try:
            parsed = ast.literal_eval(names)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, dict):
            return tuple(str(parsed[k]) for k in sorted(parsed))
    output = tuple(session.get_outputs()[0].shape)
    # YOLOX [1, anchors, 85] and Ultralytics [1, 84, anchors] exports of COCO models.
    if len(output) == 3 and (output[2] == 85 or output[1] == 84):
        return COCO80_LABELS
    return None


def _inspect_openvino(path: Path) -> ModelInfo:
    weights = path.with_suffix(".bin")
    if path.suffix.lower() == ".xml" and not weights.is_file():
        raise ModelStoreError(f"{path}: the OpenVINO weights {weights.name} are missing beside it")
    try:
        import openvino as ov
    except ImportError as exc:
        raise ModelStoreError(
            f"checking {path} needs the openvino package (pip install 'hwarang[openvino]'): {exc}"
        ) from exc
    try:
        model = ov.Core().read_model(str(path))
        shape = tuple(int(d) for d in model.input(0).get_shape())
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long C++ traces
        raise ModelStoreError(f"{path} is not a loadable OpenVINO model ({_first_line(exc)})") from exc
    files = (path, weights) if path.suffix.lower() == ".xml" else (path,)
    return ModelInfo(runtime="openvino", files=files, input_shape=shape, labels=None)
