"""Edge configuration: control centers, their cameras, and how frames are buffered."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hwarang.domain import Calibration, GeoPoint
from hwarang.edge.analytics.detectors import DetectorConfig
from hwarang.edge.analytics.detectors.nanodet import default_detector_config
from hwarang.edge.analytics.rules.config import RuleConfig
from hwarang.edge.analytics.tracking import TrackerConfig
from hwarang.edge.media.clips import ClipConfig
from hwarang.edge.sources import SourceConfig

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_RULES_PER_CAMERA = 64


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CameraConfig(_Strict):
    """One camera of a control center: where it is, what it decodes, what it looks for."""

    id: str = Field(pattern=_SLUG, description="Camera id, unique across the site (used in events).")
    name: str = Field(description="Human-readable name shown to operators.")
    enabled: bool = Field(default=True, description="Set false to keep a camera configured but not run.")
    position: GeoPoint = Field(description="Camera position (WGS84).")
    heading_deg: float = Field(
        default=0.0, ge=0.0, lt=360.0, description="View direction in degrees from north."
    )
    fov_deg: float = Field(default=60.0, gt=0.0, le=360.0, description="Horizontal field of view in degrees.")
    range_m: float = Field(default=80.0, gt=0.0, description="Useful viewing distance in metres.")
    calibration: Calibration | None = Field(
        default=None,
        description="Ground-plane pixel/map point pairs; without it a field-of-view model is used.",
    )
    sido_code: str | None = Field(
        default=None, pattern=r"^\d{2}$", description="Sido code; looked up from the position when omitted."
    )
    sigungu_code: str | None = Field(
        default=None,
        pattern=r"^\d{5}$",
        description="Local government code; looked up from the position when omitted.",
    )
    source: SourceConfig = Field(description="Where frames come from (file, synthetic; rtsp later).")
    detector: DetectorConfig = Field(
        default_factory=default_detector_config,
        description="Object detector plugin. Default: NanoDet (installed by `make models`) with motion "
        "gating; without the model it falls back to motion-only with a WARNING at start. "
        "{type: motion} selects motion-only.",
    )
    analysis_fps: float | None = Field(
        default=None,
        gt=0.0,
        description="Frames per second to analyse; frames above this rate are skipped (counted). "
        "Default: every decoded frame.",
    )
    tracker: TrackerConfig = Field(
        default_factory=TrackerConfig, description="Multi-object tracker settings."
    )
    rules: list[RuleConfig] = Field(
        default_factory=list,
        max_length=MAX_RULES_PER_CAMERA,
        description="Analytics rules that raise events (at most 64 per camera).",
    )
    clips: ClipConfig = Field(
        default_factory=ClipConfig, description="Event clips: ring of encoded video, seconds before/after."
    )

    @model_validator(mode="after")
    def _unique_rule_names(self) -> "CameraConfig":
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique per camera; repeated: {', '.join(duplicates)}")
        return self


class CenterConfig(_Strict):
    """An integrated CCTV control center and its cameras."""

    id: str = Field(pattern=_SLUG, description="Center id, used in bus subjects.")
    name: str = Field(description="Center name, e.g. 인천광역시 중구 통합관제센터.")
    position: GeoPoint | None = Field(
        default=None, description="Center position; defaults to its first camera's."
    )
    sido_code: str | None = Field(
        default=None, pattern=r"^\d{2}$", description="Sido code; looked up when omitted."
    )
    sigungu_code: str | None = Field(
        default=None, pattern=r"^\d{5}$", description="Local government code; looked up when omitted."
    )
    cameras: list[CameraConfig] = Field(default_factory=list, description="Cameras of this center.")
    signing_key: Path | None = Field(
        default=None,
        description=(
            "Ed25519 private key file (mode 0600, 'hwarang keys generate') signing this center's events; "
            "hubs that register the center's public key refuse its unsigned events (docs/security.md)."
        ),
    )


class EdgeConfig(_Strict):
    """Edge processing: the centers this process runs and how frames are buffered."""

    centers: list[CenterConfig] = Field(default_factory=list, description="Control centers run by this edge.")
    analytics_workers: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Analytics threads shared by all cameras; default: the number of CPU cores.",
    )
    processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Worker processes the cameras are split across (each with its own analytics pool and model "
            "sessions); for many-core machines where one interpreter's lock limits the node."
        ),
    )
    queue_size: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Frames queued between capture and analytics; new frames are dropped (counted) if full.",
    )
    retry_initial_s: float = Field(
        default=1.0, gt=0.0, description="First wait before reopening a failed camera."
    )
    retry_max_s: float = Field(default=30.0, gt=0.0, description="Longest wait between reopen attempts.")

    @model_validator(mode="after")
    def _unique_ids(self) -> "EdgeConfig":
        seen: set[str] = set()
        for center in self.centers:
            for camera in center.cameras:
                if camera.id in seen:
                    raise ValueError(f"camera id {camera.id!r} is used more than once")
                seen.add(camera.id)
        return self
