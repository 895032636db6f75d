"""Per-camera health, as reported to the hub and the API."""

from enum import StrEnum

from pydantic import AwareDatetime, Field

from hwarang.domain import DomainModel


class CameraState(StrEnum):
    """Lifecycle of a camera worker."""

    STARTING = "starting"
    RUNNING = "running"
    RETRYING = "retrying"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    """The camera's analytics cannot be built (bad model file, bad rule): it waits for a config fix."""


class CameraHealth(DomainModel):
    """A snapshot of one camera worker's counters."""

    camera_id: str
    state: CameraState
    fps_in: float = Field(description="Frames per second decoded, over the last few seconds.")
    fps_processed: float = Field(
        description="Frames per second through analytics, over the last few seconds."
    )
    frames_in: int
    frames_processed: int
    frames_skipped: int = Field(
        default=0,
        description="Frames not analysed because the camera's analysis_fps is below its frame rate.",
    )
    frames_dropped: int = Field(
        description="Frames dropped because analytics was behind (never blocks capture)."
    )
    decode_errors: int
    analytics_errors: int
    events: int
    reconnects: int
    last_error: str | None = None
    connected: bool = Field(
        default=False,
        description="True while the camera delivers frames (a network camera is connected to its stream).",
    )
    outages: int = Field(
        default=0, description="Times a network camera's stream was lost or could not be reached."
    )
    outage_total_s: float = Field(
        default=0.0, description="Seconds without frames over all outages, including a current one."
    )
    last_outage_start: AwareDatetime | None = Field(
        default=None, description="When the last outage began (UTC; the last frame before it)."
    )
    last_outage_end: AwareDatetime | None = Field(
        default=None, description="When frames came back after the last outage (UTC); empty while it lasts."
    )
    detector: dict[str, float] = Field(
        default_factory=dict, description="Detector counters (inferences, gated frames skipped, ms), if any."
    )
    last_outage_s: float | None = Field(
        default=None, description="Length of the last outage in seconds (so far, while it lasts)."
    )
    clips: int = Field(default=0, description="Event clips cut and handed to the bus.")
    clip_mode: str | None = Field(
        default=None, description="'remux' (the camera's own H.264), 'encode' (encoded once), or none."
    )
    config_version: int | None = Field(
        default=None, description="The hub's version of the camera's config it runs; none: the site file's."
    )
    rules: int = Field(default=0, description="Rules the camera runs.")
    live_viewers: int = Field(
        default=0, description="Viewers of the camera's live view at the hub (by the last lease renewal)."
    )
    live_bytes_sent: int = Field(
        default=0, description="Live video bytes sent upstream (only while the hub holds a lease)."
    )
