"""A ``Detector`` over any inference backend: class mapping, filters and motion gating."""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv

from hwarang.domain import DetectorInfo
from hwarang.edge.analytics.detectors.gating import (
    DetectorStats,
    FlowPropagator,
    motion_explained,
    outside_all,
    plan_rois,
)
from hwarang.edge.analytics.detectors.inference import InferenceBackend, RawDetections, class_aware_nms
from hwarang.edge.analytics.detectors.labels import DEFAULT_CLASS_MAP, DROPPED, label_lookup
from hwarang.edge.analytics.detectors.model_config import ModelDetectorConfigBase
from hwarang.edge.analytics.motion import MotionGate, MotionResult
from hwarang.edge.errors import AnalyticsError
from hwarang.edge.frame import Frame

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model file ready to load, with the labels its card names (if any)."""

    path: Path
    labels: tuple[str, ...] | None
    runtime: str | None
    name: str | None = None
    sha256: str | None = None


def resolve_model(config: ModelDetectorConfigBase, plugin: str) -> ResolvedModel:
    """The model file a detector config names: ``model_path`` as is, or ``model`` via the model store.

    Raises ``AnalyticsError`` naming the plugin and the file when the file is missing or, for a store
    model, when its hash does not match its card.
    """
    if config.model_path is not None:
        path = config.model_path
        if not path.is_file():
            raise AnalyticsError(f"{plugin} detector: model file not found: {path}")
        from hwarang.edge.models import sha256_file

        return ResolvedModel(path=path, labels=None, runtime=None, name=path.name, sha256=sha256_file(path))
    from hwarang.edge.models import ModelStore, default_store_root

    store = ModelStore(config.model_store or default_store_root())
    entry = store.get(str(config.model))
    return ResolvedModel(
        path=entry.path,
        labels=None if entry.card.labels is None else tuple(entry.card.labels),
        runtime=entry.card.runtime,
        name=entry.card.name,
        sha256=entry.card.sha256,
    )


def empty_detections() -> sv.Detections:
    """A detections object with no rows but every column a detector fills."""
    return sv.Detections(
        xyxy=np.zeros((0, 4), dtype=np.float32),
        confidence=np.zeros(0, dtype=np.float32),
        class_id=np.zeros(0, dtype=int),
    )


class ModelDetector:
    """Runs ``backend`` on full frames or, with motion gating, on crops around motion.

    See ``GatingConfig`` for what a gated frame returns. Boxes are in full-frame pixels and
    ``class_id`` holds Hwarang classes; model labels the class map does not name are dropped (or
    reported as unknown).
    """

    def __init__(
        self,
        config: ModelDetectorConfigBase,
        backend: InferenceBackend,
        labels: Sequence[str],
        plugin: str,
        model: ResolvedModel | None = None,
    ) -> None:
        self.config = config
        self.plugin = plugin
        self.info = DetectorInfo(
            kind="model",
            plugin=plugin,
            model=None if model is None else model.name,
            sha256=None if model is None else model.sha256,
        )
        if model is not None:
            logger.info("%s detector: model %s, sha256 %s (%s)", plugin, model.name, model.sha256, model.path)
        self._backend = backend
        class_map = DEFAULT_CLASS_MAP if config.class_map is None else config.class_map
        self._lookup = label_lookup(labels, class_map, unmapped_unknown=config.unmapped == "unknown")
        gating = config.gating
        self._gate = (
            MotionGate(
                history=gating.motion.history,
                var_threshold=gating.motion.var_threshold,
                detect_shadows=True,
                downscale=gating.motion.downscale,
                min_area_px=gating.motion.min_area_px,
                merge_gap_px=gating.motion.merge_gap_px,
                warmup_frames=gating.motion.warmup_frames,
            )
            if gating.mode == "motion"
            else None
        )
        propagate = gating.mode == "motion" and gating.max_skip_s > 0 and gating.flow
        self._flow = FlowPropagator(gating.flow_downscale) if propagate else None
        self._stats = DetectorStats()
        self._last = empty_detections()
        self._last_full_s: float | None = None
        self._last_inference_s: float | None = None

    @property
    def stats(self) -> DetectorStats:
        """A copy of the counters."""
        return replace(self._stats)

    def detect(self, frame: Frame) -> sv.Detections:
        """Objects in ``frame`` (full-frame pixels, Hwarang ``class_id``)."""
        self._stats.frames += 1
        image = frame.image
        if self._gate is None:
            return self._full(image, frame.pts_s)
        if self._flow is not None:  # one grey conversion serves the gate and the optical flow
            grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
            motion = self._gate.apply(grey)
            self._flow.step(grey)
        else:
            motion = self._gate.apply(image)
        last = self._last_full_s
        due = (
            last is None
            or frame.pts_s < last
            or frame.pts_s - last >= self.config.gating.full_frame_interval_s
        )
        if motion.warming_up or due:
            return self._full(image, frame.pts_s)
        if len(motion.boxes) == 0:
            self._stats.skipped_frames += 1
            self._stats.carried += len(self._last)
            return self._last
        if self._propagate(frame, motion):
            return self._last
        rois = plan_rois(motion.boxes, frame.width, frame.height, self.config.gating)
        if rois is None:
            return self._full(image, frame.pts_s)
        fresh = self._in_rois(image, rois, frame.pts_s)
        kept = self._last[outside_all(self._last.xyxy.astype(np.float32), rois)]
        if not isinstance(kept, sv.Detections):
            raise AnalyticsError(f"{self.plugin} detector: unexpected {type(kept)} from a boolean index")
        self._stats.carried += len(kept)
        self._last = sv.Detections.merge([kept, fresh]) if len(kept) else fresh
        return self._last

    def _propagate(self, frame: Frame, motion: MotionResult) -> bool:
        """Carry the previous detections (moved by optical flow) when they explain all motion.

        Only while the last inference is younger than ``max_skip_s``; True when the frame was carried.
        """
        gating = self.config.gating
        last = self._last_inference_s
        if gating.max_skip_s <= 0 or last is None or frame.pts_s < last:
            return False
        if frame.pts_s - last + 1e-6 >= gating.max_skip_s or len(self._last) == 0:
            return False
        previous = self._last.xyxy.astype(np.float32)
        moved = previous if self._flow is None else self._flow.move(previous)
        np.clip(moved[:, 0::2], 0, frame.width, out=moved[:, 0::2])
        np.clip(moved[:, 1::2], 0, frame.height, out=moved[:, 1::2])
        confidence = (
            np.ones(len(moved), dtype=np.float32)
            if self._last.confidence is None
            else self._last.confidence.astype(np.float32)
        )
        if not motion_explained(motion, moved[confidence >= gating.explain_min_confidence], gating):
            return False
        self._last = sv.Detections(xyxy=moved, confidence=confidence, class_id=self._last.class_id)
        self._stats.propagated_frames += 1
        self._stats.carried += len(moved)
        return True

    def _full(self, image: npt.NDArray[np.uint8], pts_s: float) -> sv.Detections:
        self._stats.full_frame_inferences += 1
        self._last_full_s = pts_s
        self._last_inference_s = pts_s
        (raw,) = self._infer([image], [None])
        self._last = self._to_detections([raw], [(0, 0)])
        return self._last

    def _in_rois(
        self, image: npt.NDArray[np.uint8], rois: npt.NDArray[np.int_], pts_s: float
    ) -> sv.Detections:
        self._last_inference_s = pts_s
        crops = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in rois]
        self._stats.rois += len(crops)
        self._stats.roi_inferences += len(crops)
        upscale = self.config.gating.max_roi_upscale
        raws = self._infer(crops, [upscale] * len(crops))
        return self._to_detections(raws, [(int(x1), int(y1)) for x1, y1, _, _ in rois])

    def _infer(
        self, images: Sequence[npt.NDArray[np.uint8]], scales: Sequence[float | None]
    ) -> list[RawDetections]:
        batch = max(self._backend.batch_size, 1)
        results: list[RawDetections] = []
        started = time.perf_counter()
        for start in range(0, len(images), batch):
            results.extend(
                self._backend.infer(
                    images[start : start + batch], scales[start : start + batch], self.config.min_confidence
                )
            )
        self._stats.inference_ms += (time.perf_counter() - started) * 1000.0
        self._stats.inferences += len(images)
        return results

    def _to_detections(
        self, raws: Sequence[RawDetections], offsets: Sequence[tuple[int, int]]
    ) -> sv.Detections:
        parts = [
            raw.boxes + np.array([dx, dy, dx, dy], dtype=np.float32)
            for raw, (dx, dy) in zip(raws, offsets, strict=True)
        ]
        boxes = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 4), dtype=np.float32)
        scores = np.concatenate([raw.scores for raw in raws]).astype(np.float32)
        labels = np.concatenate([raw.labels for raw in raws]).astype(int)
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self._lookup)):
            raise AnalyticsError(
                f"{self.plugin} detector: model class id {int(labels.max())} is outside its "
                f"{len(self._lookup)} labels; set `labels` to the model's class names"
            )
        class_id = self._lookup[labels] if len(labels) else np.zeros(0, dtype=int)
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        keep = (
            (class_id != DROPPED) & (scores >= self.config.min_confidence) & (sides >= self.config.min_box_px)
        )
        boxes, scores, class_id = boxes[keep], scores[keep], class_id[keep]
        # Two model labels may map to one Hwarang class (car and truck on one vehicle): suppress again.
        kept = class_aware_nms(boxes, scores, class_id, self.config.nms_iou, self.config.max_detections)
        return sv.Detections(xyxy=boxes[kept], confidence=scores[kept], class_id=class_id[kept])
