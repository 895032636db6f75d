"""Enumerations of the domain vocabulary."""

from enum import StrEnum


class ObjectClass(StrEnum):
    """What an analytic saw, in Hwarang's own classes (model classes are mapped to these)."""

    PERSON = "person"
    VEHICLE = "vehicle"
    TWO_WHEELER = "two_wheeler"
    BOAT = "boat"
    AIRCRAFT = "aircraft"
    ANIMAL = "animal"
    UNKNOWN = "unknown"


class RuleKind(StrEnum):
    """The video analytics rules that turn tracks into events."""

    ZONE_INTRUSION = "zone_intrusion"
    LINE_CROSSING = "line_crossing"
    LOITERING = "loitering"
    CROWDING = "crowding"


class Severity(StrEnum):
    """How urgent an incident is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentState(StrEnum):
    """Countermeasure workflow states of an incident."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSESSING = "assessing"
    RESPONDING = "responding"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"


class Classification(StrEnum):
    """Security classification of information (Korean: 평문, 대외비, III급, II급 비밀)."""

    UNCLASSIFIED = "unclassified"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"


class AgencyKind(StrEnum):
    """Kinds of organisation that take part in integrated defense."""

    LOCAL_GOVERNMENT = "local_government"
    INTEGRATED_DEFENSE_HQ = "integrated_defense_hq"
    MILITARY = "military"
    POLICE = "police"
    COAST_GUARD = "coast_guard"
    FIRE = "fire"
    INTELLIGENCE = "intelligence"
    INTERIOR_MINISTRY = "interior_ministry"
    INFRASTRUCTURE = "infrastructure"


class Role(StrEnum):
    """What a user may do within their agency and jurisdiction."""

    OPERATOR = "operator"
    COMMANDER = "commander"
    HEAD_OF_LOCAL_GOVERNMENT = "head_of_local_government"
    AGENCY_LIAISON = "agency_liaison"
    EVALUATOR = "evaluator"
    ADMIN = "admin"


class TaskState(StrEnum):
    """States of a task given to an agency or unit."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class ConditionKind(StrEnum):
    """Declared conditions under which the law lets the military view municipal CCTV."""

    INTEGRATED_DEFENSE_SITUATION = "integrated_defense_situation"
    ALERT_LEVEL = "alert_level"
    EXERCISE = "exercise"
    TERROR = "terror"
    DISASTER = "disaster"
