"""Unmanned systems: drone and ground-robot reports, their tracks, and the alerts they raise."""

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from hwarang.domain.base import DomainModel, ValueModel
from hwarang.domain.enums import Classification, Severity
from hwarang.domain.geopoint import GeoPoint

MAX_TRACK_HISTORY = 600
"""Most points a track keeps (ten minutes at the 1 Hz Remote ID broadcast rate)."""


class DroneSource(StrEnum):
    """Where a report came from."""

    REMOTE_ID = "remote_id"
    MAVLINK = "mavlink"
    VISUAL = "visual"
    TAK = "tak"


PRINTABLE_TEXT = r"^[^\x00-\x1f\x7f]*$"
"""Text without control characters (it goes into XML and logs)."""


class DroneReport(DomainModel):
    """One position report of a drone or ground robot (Remote ID broadcast, own telemetry, camera)."""

    source: DroneSource
    track_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=PRINTABLE_TEXT,
        description="Remote ID: the UAS id (serial, registration, session id); MAVLink: 'sys<system id>'.",
    )
    friendly: bool = Field(default=False, description="True for our own units (MAVLink telemetry).")
    lat: float = Field(ge=-90.0, le=90.0, description="Latitude in degrees (WGS84).")
    lon: float = Field(ge=-180.0, le=180.0, description="Longitude in degrees (WGS84).")
    alt_m: float | None = Field(default=None, description="Altitude in metres (WGS84/MSL), when known.")
    height_m: float | None = Field(
        default=None, description="Height above ground or take-off in metres, when known."
    )
    speed_ms: float | None = Field(default=None, ge=0.0, description="Ground speed in m/s.")
    heading_deg: float | None = Field(default=None, ge=0.0, lt=360.0, description="Course over ground.")
    vert_speed_ms: float | None = Field(default=None, description="Climb rate in m/s (up positive).")
    time: AwareDatetime = Field(description="When the position was valid (or received, if not sent).")
    operator: GeoPoint | None = Field(default=None, description="The remote pilot's position.")
    operator_alt_m: float | None = None
    operator_id: str | None = Field(default=None, max_length=64, pattern=PRINTABLE_TEXT)
    ua_type: str | None = Field(
        default=None,
        max_length=64,
        pattern=PRINTABLE_TEXT,
        description="Airframe or vehicle type, e.g. 'helicopter_or_multirotor'.",
    )
    classification: str | None = Field(
        default=None,
        max_length=64,
        pattern=PRINTABLE_TEXT,
        description="UA category and class from Remote ID, e.g. 'eu C1'.",
    )
    self_id: str | None = Field(
        default=None, max_length=64, pattern=PRINTABLE_TEXT, description="Free-text Self-ID description."
    )
    receiver_id: str | None = Field(
        default=None, max_length=64, pattern=PRINTABLE_TEXT, description="Which receiver heard it."
    )

    @property
    def key(self) -> str:
        """The track this report belongs to: ``<source>:<track_id>``."""
        return f"{self.source.value}:{self.track_id}"

    @property
    def position(self) -> GeoPoint:
        """Where the drone was."""
        return GeoPoint(lat=self.lat, lon=self.lon)

    @property
    def cooperative(self) -> bool:
        """True when the drone identifies itself (Remote ID or our own telemetry)."""
        return self.source is not DroneSource.VISUAL


class TrackPoint(ValueModel):
    """One point of a track's history."""

    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    alt_m: float | None = None
    speed_ms: float | None = Field(default=None, ge=0.0)
    time: AwareDatetime


class DroneTrack(DomainModel):
    """A drone's or robot's latest report and its recent path (oldest first, bounded)."""

    key: str = Field(description="``<source>:<track_id>``.")
    latest: DroneReport
    history: tuple[TrackPoint, ...] = Field(max_length=MAX_TRACK_HISTORY)
    first_seen: AwareDatetime
    reports: int = Field(ge=1, description="Reports received since the track began.")
    stale: bool = Field(default=False, description="No report for longer than the hub's stale time.")

    @model_validator(mode="after")
    def _check_key(self) -> "DroneTrack":
        if self.key != self.latest.key:
            raise ValueError(f"track key {self.key!r} does not match its latest report's {self.latest.key!r}")
        return self


class CameraSuggestion(ValueModel):
    """A camera the operator may turn to: the nearest ones to a drone."""

    camera_id: str
    name: str
    distance_m: float = Field(ge=0.0)


class DroneAlertKind(StrEnum):
    """What a drone did that the hub records."""

    GEOFENCE_ENTER = "geofence_enter"
    GEOFENCE_LEAVE = "geofence_leave"
    VISUAL_COOPERATIVE = "visual_cooperative"
    VISUAL_NON_COOPERATIVE = "visual_non_cooperative"


class DroneAlert(DomainModel):
    """A geofence crossing or a visual drone judged against Remote ID, with what the operator needs."""

    id: uuid.UUID
    kind: DroneAlertKind
    time: AwareDatetime
    track_key: str | None = Field(default=None, description="The drone track, when one is known.")
    uas_id: str | None = Field(default=None, description="Remote ID of the drone, when cooperative.")
    event_id: uuid.UUID | None = Field(default=None, description="The hub event raised or judged.")
    incident_id: uuid.UUID | None = None
    site_id: str | None = Field(default=None, description="Geofence site, for geofence crossings.")
    site_name: str | None = None
    classification: Classification = Classification.RESTRICTED
    severity: Severity | None = None
    position: GeoPoint
    alt_m: float | None = None
    operator: GeoPoint | None = Field(default=None, description="The remote pilot's position, when sent.")
    operator_alt_m: float | None = None
    distance_m: float | None = Field(
        default=None, ge=0.0, description="Visual alerts: distance to the associated Remote ID track."
    )
    cameras: tuple[CameraSuggestion, ...] = Field(default=(), description="Nearest cameras, nearest first.")
    description: str = Field(max_length=2000)
