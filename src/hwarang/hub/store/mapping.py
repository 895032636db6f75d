"""Conversions between ORM rows and the frozen domain models."""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hwarang.domain import (
    Camera,
    Classification,
    Event,
    GeoPoint,
    Incident,
    IncidentState,
    ObjectClass,
    RuleKind,
    Severity,
    SeverityReason,
)
from hwarang.hub.store.models import CameraRow, EventRow, IncidentRow


def event_to_row(event: Event, *, received_at: datetime, incident_id: uuid.UUID | None) -> EventRow:
    """A new events row for ``event``; ``payload`` keeps the full Event JSON."""
    return EventRow(
        id=event.id,
        camera_id=event.camera_id,
        center_id=event.center_id,
        sido_code=event.sido_code,
        sigungu_code=event.sigungu_code,
        occurred_at=event.occurred_at,
        received_at=received_at,
        object_class=event.object_class.value,
        confidence=event.confidence,
        rule=event.rule.value,
        rule_name=event.rule_name,
        track_id=event.track_id,
        lat=None if event.geo is None else event.geo.lat,
        lon=None if event.geo is None else event.geo.lon,
        snapshot_sha256=None if event.snapshot is None else event.snapshot.sha256,
        exercise=event.exercise,
        payload=event.model_dump(mode="json"),
        incident_id=incident_id,
    )


def event_from_row(row: EventRow) -> Event:
    """The Event stored in ``row.payload``."""
    return Event.model_validate(row.payload)


def incident_from_row(row: IncidentRow, event_ids: tuple[uuid.UUID, ...]) -> Incident:
    """The frozen domain incident of ``row`` with the ids of its events (oldest first)."""
    geo = None if row.lat is None or row.lon is None else GeoPoint(lat=row.lat, lon=row.lon)
    return Incident(
        id=row.id,
        seq=row.seq,
        title=row.title,
        state=IncidentState(row.state),
        severity=Severity(row.severity),
        classification=Classification(row.classification),
        object_class=ObjectClass(row.object_class),
        rule=RuleKind(row.rule),
        camera_id=row.camera_id,
        center_id=row.center_id,
        sido_code=row.sido_code,
        sigungu_code=row.sigungu_code,
        zone_id=row.zone_id,
        geo=geo,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        event_ids=event_ids,
        snapshot_sha256=row.snapshot_sha256,
        exercise=row.exercise,
        created_at=row.created_at,
        updated_at=row.updated_at,
        shared_with=tuple(row.shared_with or ()),
        merged_into=row.merged_into,
        assignee=row.assignee,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
        rule_name=row.rule_name,
        camera_name=row.camera_name,
        severity_reasons=tuple(
            SeverityReason.model_validate(reason) for reason in row.severity_reasons or ()
        ),
        motion_only=is_motion_only(row.detectors),
        detector_models=detector_models(row.detectors),
    )


def is_motion_only(detectors: Iterable[Mapping[str, Any]] | None) -> bool:
    """True when some detector of an incident is known and every known one is motion-only."""
    kinds = {entry.get("kind") for entry in detectors or ()}
    return kinds == {"motion"}


def detector_models(detectors: Iterable[Mapping[str, Any]] | None) -> tuple[str, ...]:
    """The model names among an incident's detectors, in the order they came."""
    return tuple(dict.fromkeys(str(e["model"]) for e in detectors or () if e.get("model")))


def incidents_from_rows(session: Session, rows: list[IncidentRow]) -> list[Incident]:
    """The domain incidents of ``rows`` (same order), with their event ids read in one query."""
    event_ids = _event_ids_by_incident(session, [row.id for row in rows])
    return [incident_from_row(row, event_ids.get(row.id, ())) for row in rows]


def _event_ids_by_incident(
    session: Session, incident_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, ...]]:
    if not incident_ids:
        return {}
    stmt = (
        select(EventRow.incident_id, EventRow.id)
        .where(EventRow.incident_id.in_(incident_ids))
        .order_by(EventRow.occurred_at, EventRow.id)
    )
    grouped: dict[uuid.UUID, list[uuid.UUID]] = {}
    for incident_id, event_id in session.execute(stmt):
        if incident_id is not None:
            grouped.setdefault(incident_id, []).append(event_id)
    return {k: tuple(v) for k, v in grouped.items()}


def camera_to_row(camera: Camera) -> CameraRow:
    """A cameras row for ``camera``; ``payload`` keeps the full Camera JSON."""
    return CameraRow(
        id=camera.id,
        center_id=camera.center_id,
        name=camera.name,
        sido_code=camera.sido_code,
        sigungu_code=camera.sigungu_code,
        lat=camera.position.lat,
        lon=camera.position.lon,
        payload=camera.model_dump(mode="json"),
    )


def camera_from_row(row: CameraRow) -> Camera:
    """The Camera stored in ``row.payload``."""
    return Camera.model_validate(row.payload)
