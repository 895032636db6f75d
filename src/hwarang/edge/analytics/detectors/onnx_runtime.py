"""ONNX Runtime sessions, shared process-wide so that cameras using one model share one session."""

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwarang.edge.errors import AnalyticsError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """What makes two sessions of one model different (part of the cache key)."""

    intra_op_threads: int
    providers: tuple[str, ...] = ("CPUExecutionProvider",)


_SESSIONS: dict[tuple[str, int, int, SessionOptions], Any] = {}
_LOCK = threading.Lock()


def default_threads() -> int:
    """Threads per inference when the config does not say: every CPU core."""
    return max(os.cpu_count() or 1, 1)


def import_onnxruntime(plugin: str) -> Any:
    """The ``onnxruntime`` module, or an ``AnalyticsError`` naming the plugin and the package."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise AnalyticsError(
            f"{plugin} detector needs the onnxruntime package (pip install onnxruntime): {exc}"
        ) from exc
    return onnxruntime


def onnx_session(path: Path, options: SessionOptions, plugin: str) -> Any:
    """A shared ``onnxruntime.InferenceSession`` for ``path`` with ``options``.

    ONNX Runtime sessions are safe to run from several threads at once. Raises ``AnalyticsError``
    naming the file when it is missing or not an ONNX model.
    """
    ort = import_onnxruntime(plugin)
    try:
        stat = path.stat()
    except OSError as exc:
        raise AnalyticsError(f"{plugin} detector: cannot read model file {path}: {exc}") from exc
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, options)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is not None:
            return session
        session = load_onnx(path, options, plugin, ort)
        _SESSIONS[key] = session
        logger.info("loaded ONNX model %s (%s threads)", path, options.intra_op_threads)
        return session


def load_onnx(path: Path, options: SessionOptions, plugin: str, ort: Any = None) -> Any:
    """A new, unshared ONNX Runtime session (``AnalyticsError`` naming the file if it is no model)."""
    ort = ort or import_onnxruntime(plugin)
    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = options.intra_op_threads
    session_options.inter_op_num_threads = 1
    session_options.log_severity_level = 3
    available = set(ort.get_available_providers())
    providers = [p for p in options.providers if p in available] or ["CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(path), sess_options=session_options, providers=providers)
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AnalyticsError(
            f"{plugin} detector: {path} is not a loadable ONNX model ({first_line})"
        ) from exc


def cached_sessions() -> int:
    """How many sessions the process holds."""
    with _LOCK:
        return len(_SESSIONS)


def clear_session_cache() -> None:
    """Drop every cached session (tests; a model file replaced on disk is reloaded anyway)."""
    with _LOCK:
        _SESSIONS.clear()


def input_shape(session: Any) -> tuple[int | None, int | None, int | None, int | None]:
    """The first input's NCHW shape, ``None`` where a dimension is dynamic."""
    shape = list(session.get_inputs()[0].shape)
    if len(shape) != 4:
        raise AnalyticsError(f"expected a 4-D NCHW image input, got shape {shape}")
    dims = [d if isinstance(d, int) and d > 0 else None for d in shape]
    return dims[0], dims[1], dims[2], dims[3]
