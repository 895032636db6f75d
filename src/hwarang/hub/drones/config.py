"""Configuration of the hub's unmanned-systems features (``hub.drones`` in the site file)."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hwarang.domain.drone import MAX_TRACK_HISTORY

__all__ = ["DroneConfig"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DroneConfig(_Strict):
    """Drone and robot tracks, geofences over key sites, and fusion with visual detections.

    The site file's ``hub.drones`` adds ``remote_id_udp`` (the UDP intake, :mod:`hwarang.config.models`).
    """

    geofences_file: Path | None = Field(
        default=None,
        description="YAML file of protected sites (docs/drones.md); default: packaged illustrative sites.",
    )
    history_points: int = Field(
        default=MAX_TRACK_HISTORY, ge=1, le=MAX_TRACK_HISTORY, description="Points of history kept per track."
    )
    stale_after_s: float = Field(default=30.0, gt=0, description="A track not heard for this long is stale.")
    forget_after_s: float = Field(
        default=3600.0, gt=0, description="A track not heard for this long is dropped."
    )
    persist_interval_s: float = Field(
        default=5.0,
        ge=0,
        description="Latest state of a track is written at most this often (and on crossings).",
    )
    fusion_radius_m: float = Field(
        default=300.0, gt=0, description="A visual drone this close to a Remote ID track is that track."
    )
    fusion_window_s: float = Field(
        default=5.0, gt=0, description="...and this close in time (seconds, either way)."
    )
    nearest_cameras: int = Field(
        default=3, ge=1, le=20, description="Cameras suggested with a geofence alert."
    )
    friendly_units: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Friendly unit id -> owning agency code: only that agency's users and sources may report "
            "the unit (an unregistered unit is claimed by the first agency reporting it)."
        ),
    )

    @model_validator(mode="after")
    def _check_times(self) -> "DroneConfig":
        if self.stale_after_s > self.forget_after_s:
            raise ValueError(
                f"stale_after_s ({self.stale_after_s}) must not exceed forget_after_s ({self.forget_after_s})"
            )
        return self
