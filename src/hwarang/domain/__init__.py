"""Pure domain models and enums shared by every layer. No I/O lives here."""

from hwarang.domain.agency import Agency, User
from hwarang.domain.base import SCHEMA_VERSION, DomainModel
from hwarang.domain.camera import Calibration, Camera, Center
from hwarang.domain.camera_config import (
    CAMERA_CONFIG_COMMAND,
    CAMERA_PICTURE_COMMAND,
    AckStatus,
    CameraConfigCommand,
    CameraPicture,
    CommandAck,
    PictureRequest,
)
from hwarang.domain.detection import BoundingBox, Detection, Track
from hwarang.domain.drone import DroneAlert, DroneReport, DroneSource, DroneTrack
from hwarang.domain.enums import (
    AgencyKind,
    Classification,
    ConditionKind,
    IncidentState,
    ObjectClass,
    Role,
    RuleKind,
    Severity,
    TaskState,
)
from hwarang.domain.event import (
    ClipManifest,
    ClipRef,
    DetectorInfo,
    Event,
    EventMessage,
    SnapshotRef,
    stable_event_id,
)
from hwarang.domain.geopoint import GeoPoint
from hwarang.domain.incident import Incident, SeverityReason, SeverityReasonCode
from hwarang.domain.region import AdminLocation, ExerciseZone, Region, RegionLevel
from hwarang.domain.sharing import DeclaredCondition, Grant, IncidentShare
from hwarang.domain.workflow import Attachment, Note, Task, TimelineEntry

__all__ = [
    "CAMERA_CONFIG_COMMAND",
    "CAMERA_PICTURE_COMMAND",
    "SCHEMA_VERSION",
    "AckStatus",
    "AdminLocation",
    "Agency",
    "AgencyKind",
    "Attachment",
    "BoundingBox",
    "Calibration",
    "Camera",
    "CameraConfigCommand",
    "CameraPicture",
    "Center",
    "Classification",
    "ClipManifest",
    "ClipRef",
    "CommandAck",
    "ConditionKind",
    "DeclaredCondition",
    "Detection",
    "DetectorInfo",
    "DomainModel",
    "DroneAlert",
    "DroneReport",
    "DroneSource",
    "DroneTrack",
    "Event",
    "EventMessage",
    "ExerciseZone",
    "GeoPoint",
    "Grant",
    "Incident",
    "IncidentShare",
    "IncidentState",
    "Note",
    "ObjectClass",
    "PictureRequest",
    "Region",
    "RegionLevel",
    "Role",
    "RuleKind",
    "Severity",
    "SeverityReason",
    "SeverityReasonCode",
    "SnapshotRef",
    "Task",
    "TaskState",
    "TimelineEntry",
    "Track",
    "User",
    "stable_event_id",
]
