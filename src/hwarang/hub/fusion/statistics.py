"""The overview of a set of incidents: counts by area, severity and hour, response times, and the
share of false alarms per camera (pure: incidents in, figures out)."""

import statistics as stats
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import timedelta, timezone

from pydantic import Field

from hwarang.domain import DomainModel, Incident, IncidentState

KST = timezone(timedelta(hours=9), "KST")
CLOSED = (IncidentState.RESOLVED, IncidentState.FALSE_ALARM)


class Durations(DomainModel):
    """Seconds from first detection to a step, over the incidents that took it."""

    count: int
    median_s: float | None = None
    p90_s: float | None = None


class CameraAlarms(DomainModel):
    """How many of a camera's closed incidents were false alarms."""

    camera_id: str
    camera_name: str | None = None
    closed: int
    false_alarms: int
    share: float = Field(description="false_alarms / closed (0..1).")


class IncidentStatistics(DomainModel):
    """Counts and response times of the incidents a user may view (exercise ones only when asked)."""

    total: int
    by_zone: dict[str, int] = Field(description="Exercise zone id (or 'none') -> incidents.")
    by_sido: dict[str, int]
    by_local_government: dict[str, int] = Field(description="Sigungu code -> incidents.")
    by_severity: dict[str, int]
    by_state: dict[str, int]
    by_hour_kst: list[int] = Field(description="Incidents first detected in each hour 0..23, KST.")
    acknowledge: Durations
    resolve: Durations
    false_alarms_by_camera: list[CameraAlarms] = Field(
        description="Cameras by false-alarm share, highest first."
    )


def _durations(values: list[float]) -> Durations:
    if not values:
        return Durations(count=0)
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return Durations(count=len(values), median_s=round(stats.median(ordered), 1), p90_s=round(p90, 1))


def _counts(counter: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counter.items()))


def incident_statistics(incidents: Iterable[Incident]) -> IncidentStatistics:
    """The overview of ``incidents`` (merged ones are left out: their events live on in the target)."""
    items = [i for i in incidents if i.merged_into is None]
    hours = [0] * 24
    acknowledge: list[float] = []
    resolve: list[float] = []
    closed: Counter[str] = Counter()
    false: Counter[str] = Counter()
    names: dict[str, str | None] = {}
    for incident in items:
        hours[incident.first_seen.astimezone(KST).hour] += 1
        if incident.acknowledged_at is not None:
            acknowledge.append(max(0.0, (incident.acknowledged_at - incident.first_seen).total_seconds()))
        if incident.resolved_at is not None:
            resolve.append(max(0.0, (incident.resolved_at - incident.first_seen).total_seconds()))
        if incident.state in CLOSED:
            closed[incident.camera_id] += 1
            false[incident.camera_id] += incident.state is IncidentState.FALSE_ALARM
            names[incident.camera_id] = incident.camera_name
    cameras = [
        CameraAlarms(
            camera_id=camera,
            camera_name=names.get(camera),
            closed=count,
            false_alarms=false[camera],
            share=round(false[camera] / count, 3),
        )
        for camera, count in closed.items()
    ]
    cameras.sort(key=lambda c: (-c.share, -c.closed, c.camera_id))
    return IncidentStatistics(
        total=len(items),
        by_zone=_counts(Counter(str(i.zone_id) if i.zone_id is not None else "none" for i in items)),
        by_sido=_counts(Counter(i.sido_code for i in items)),
        by_local_government=_counts(Counter(i.sigungu_code for i in items)),
        by_severity=_counts(Counter(i.severity.value for i in items)),
        by_state=_counts(Counter(i.state.value for i in items)),
        by_hour_kst=hours,
        acknowledge=_durations(acknowledge),
        resolve=_durations(resolve),
        false_alarms_by_camera=cameras,
    )
