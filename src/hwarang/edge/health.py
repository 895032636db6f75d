"""Per-camera health, as reported to the hub and the API."""

from enum import StrEnum

from pydantic import Field

from hwarang.domain import DomainModel


class CameraState(StrEnum):
    """Lifecycle of a camera worker."""

    STARTING = "starting"
    RUNNING = "running"
    RETRYING = "retrying"
    FINISHED = "finished"
    STOPPED = "stopped"


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
    frames_dropped: int = Field(
        description="Frames dropped because analytics was behind (never blocks capture)."
    )
    decode_errors: int
    analytics_errors: int
    events: int
    reconnects: int
    last_error: str | None = None
