"""Pure domain models and enums shared by every layer. No I/O lives here."""

from hwarang.domain.agency import Agency, User
from hwarang.domain.base import SCHEMA_VERSION, DomainModel
from hwarang.domain.camera import Calibration, Camera, Center
from hwarang.domain.detection import BoundingBox, Detection, Track
from hwarang.domain.enums import (
    AgencyKind,
    Classification,
    IncidentState,
    ObjectClass,
    Role,
    RuleKind,
    Severity,
)
from hwarang.domain.event import Event, EventMessage, SnapshotRef, stable_event_id
from hwarang.domain.geopoint import GeoPoint
from hwarang.domain.incident import Incident
from hwarang.domain.region import AdminLocation, ExerciseZone, Region, RegionLevel

__all__ = [
    "SCHEMA_VERSION",
    "AdminLocation",
    "Agency",
    "AgencyKind",
    "BoundingBox",
    "Calibration",
    "Camera",
    "Center",
    "Classification",
    "Detection",
    "DomainModel",
    "Event",
    "EventMessage",
    "ExerciseZone",
    "GeoPoint",
    "Incident",
    "IncidentState",
    "ObjectClass",
    "Region",
    "RegionLevel",
    "Role",
    "RuleKind",
    "Severity",
    "SnapshotRef",
    "Track",
    "User",
    "stable_event_id",
]
