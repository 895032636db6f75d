"""A need-to-know world for API tests: agencies, one user per role in and out of Seoul Jongno-gu.

In jurisdiction (the incidents are in sigungu 11110, Jongno-gu, Seoul):
operator and head of local government of ``seoul-jongno``; a commander of the integrated-defense
HQ for Seoul ('11'); a police liaison for Seoul (incidents are shared with the police); an
evaluator of the interior ministry for Seoul; the built-in nationwide ``admin``.
Out of jurisdiction: the same roles for Busan ('26'), including a Busan administrator.
``army`` is a commander of the capital's army command (military, '11'): it sees municipal
evidence only under a grant of a declared condition.
"""

import hashlib
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import update

from hwarang.domain import (
    Agency,
    AgencyKind,
    BoundingBox,
    Camera,
    ClipManifest,
    ClipRef,
    ConditionKind,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    Role,
    RuleKind,
    SnapshotRef,
    User,
    stable_event_id,
)
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.service import HubService
from hwarang.hub.sharing.condition_policy import ConditionPolicy, Declarers
from hwarang.hub.store.db import Database
from hwarang.hub.store.models import IncidentRow

PASSWORD = "matrix-password-123"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
AREA = "11110"
CAMERA_ID = "cam-jongno-01"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

AGENCIES = (
    Agency(code="seoul-jongno", name="종로구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code=AREA),
    Agency(code="police-seoul", name="서울경찰청", kind=AgencyKind.POLICE, jurisdiction_code="11"),
    Agency(code="army-cdc", name="수도방위사령부", kind=AgencyKind.MILITARY, jurisdiction_code="11"),
    Agency(code="busan-jung", name="부산 중구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code="26110"),
    Agency(code="police-busan", name="부산경찰청", kind=AgencyKind.POLICE, jurisdiction_code="26"),
)

# role -> (agency, jurisdiction) in Seoul / in Busan
_PLACES: dict[Role, tuple[tuple[str, str | None], tuple[str, str]]] = {
    Role.OPERATOR: (("seoul-jongno", AREA), ("busan-jung", "26110")),
    Role.COMMANDER: (("idhq", "11"), ("idhq", "26")),
    Role.HEAD_OF_LOCAL_GOVERNMENT: (("seoul-jongno", AREA), ("busan-jung", "26110")),
    Role.AGENCY_LIAISON: (("police-seoul", "11"), ("police-busan", "26")),
    Role.EVALUATOR: (("mois", "11"), ("mois", "26")),
    Role.ADMIN: (("idhq", None), ("idhq", "26")),
}


def username(role: Role, inside: bool) -> str:
    """The seeded user of ``role`` in (Seoul) or out of (Busan) the incidents' jurisdiction."""
    if role is Role.ADMIN and inside:
        return "admin"
    return f"{role.value.replace('_', '-')}-{'in' if inside else 'out'}"


def matrix_users() -> list[User]:
    """One user per role and side (the built-in admin is the nationwide one)."""
    users = []
    for role, places in _PLACES.items():
        for inside, (agency, jurisdiction) in zip((True, False), places, strict=True):
            if role is Role.ADMIN and inside:
                continue
            users.append(
                User(
                    username=username(role, inside),
                    display_name=username(role, inside),
                    agency_code=agency,
                    jurisdiction_code=jurisdiction,
                    roles=(role,),
                )
            )
    return users


ARMY = User(
    username="army",
    display_name="army",
    agency_code="army-cdc",
    jurisdiction_code="11",
    roles=(Role.COMMANDER,),
)


def jpeg(seed: int) -> bytes:
    """Bytes framed like a JPEG (JFIF header, EOI)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + hashlib.sha256(str(seed).encode()).digest() * 8 + b"\xff\xd9"


def event_message(
    track: int, *, sigungu: str = AREA, snapshot: bool = True, at: datetime | None = None
) -> EventMessage:
    """An event of the Jongno camera (another area with ``sigungu``), at ``T0 + track`` s by default."""
    occurred_at = at or T0 + timedelta(seconds=track)
    data = jpeg(track) if snapshot else None
    ref = (
        None if data is None else SnapshotRef(sha256=hashlib.sha256(data).hexdigest(), width=640, height=480)
    )
    event = Event(
        id=stable_event_id(CAMERA_ID, "gate", track, occurred_at),
        camera_id=CAMERA_ID,
        center_id="seoul-jongno",
        sido_code=sigungu[:2],
        sigungu_code=sigungu,
        occurred_at=occurred_at,
        object_class=ObjectClass.PERSON,
        confidence=0.9,
        box=BoundingBox(x1=10, y1=20, x2=60, y2=180),
        track_id=track,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="gate",
        geo=GeoPoint(lat=37.5729, lon=126.9794),
        snapshot=ref,
        frame_index=track,
    )
    return EventMessage(event=event, snapshot_jpeg=data)


@dataclass
class World:
    """Ids of what was seeded, per slot (one slot per caller, so state changes do not collide)."""

    root: Path
    incidents: list[uuid.UUID] = field(default_factory=list)
    events: list[uuid.UUID] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    tasks: list[uuid.UUID] = field(default_factory=list)
    conditions: list[uuid.UUID] = field(default_factory=list)
    attachment: uuid.UUID | None = None
    spares: list[uuid.UUID] = field(default_factory=list)
    second_events: list[uuid.UUID] = field(default_factory=list)


def open_hub(root: Path, *, policy: ConditionPolicy | None = None) -> HubService:
    """The hub stored under ``root`` (migrated), with condition ``policy`` (default: the shipped one)."""
    database = Database(f"sqlite:///{root / 'hub.sqlite3'}")
    database.migrate()
    return HubService(
        database,
        EvidenceStore(root / "evidence"),
        password_hasher=FAST_HASHER,
        fusion=FusionConfig(),
        condition_policy=policy,
    )


def open_condition_policy(*, approval: bool = False) -> ConditionPolicy:
    """The default condition policy opened up: anyone with the role declares any kind, for up to
    30 days, and (unless ``approval``) grants need no approval (for tests of the grant mechanics
    and of roles, not of who declares what)."""
    policy = ConditionPolicy.load()
    everyone = Declarers(agency_kinds=tuple(AgencyKind), roles=tuple(Role))
    needs = "local_government" if approval else "none"
    kinds = {
        kind: rule.model_copy(update={"declarers": everyone, "approval": needs, "max_hours": 720})
        for kind, rule in policy.kinds.items()
    }
    return policy.model_copy(update={"kinds": kinds})


def seed(root: Path, *, slots: int, with_workflow: bool) -> World:
    """Seed a hub under ``root``: agencies, users, camera, ``slots`` shared incidents in 11110.

    ``with_workflow`` also gives each slot a task (for the police) and a condition (declared by
    the admin on 11110), and slot 0 an attachment.
    """
    hub = open_hub(root)
    world = World(root)
    try:
        hub.identity.ensure_admin(PASSWORD)
        hub.identity.agencies.upsert(AGENCIES)
        for user in [*matrix_users(), ARMY]:
            hub.identity.users.create(user, PASSWORD)
        for k in range(slots):
            target = User(
                username=f"target-{k}",
                display_name="target",
                agency_code="seoul-jongno",
                jurisdiction_code=AREA,
                roles=(Role.OPERATOR,),
            )
            hub.identity.users.create(target, PASSWORD)
        hub.cameras.upsert(
            Camera(
                id=CAMERA_ID,
                center_id="seoul-jongno",
                name="Jongno gate",
                position=GeoPoint(lat=37.5729, lon=126.9794),
                sido_code="11",
                sigungu_code=AREA,
            )
        )
        for k in range(slots):
            # Ten minutes apart, so fusion keeps each slot's incident apart (docs/fusion.md).
            at = T0 + timedelta(minutes=10 * k)
            message = event_message(1000 + k, at=at)
            incident = hub.ingest.event(message).incident
            if incident is None or message.event.snapshot is None:
                raise AssertionError(f"seed event {k} did not create an incident")
            world.incidents.append(incident.id)
            world.events.append(message.event.id)
            world.snapshots.append(message.event.snapshot.sha256)
            if k == 0:
                seed_clip(hub, message)
            second = event_message(1000 + k, at=at + timedelta(seconds=1))  # same track: joins
            joined = hub.ingest.event(second).incident
            if joined is None or joined.id != incident.id:
                raise AssertionError(f"seed event {k}'s second event did not join its incident")
            world.second_events.append(second.event.id)
            spare = hub.ingest.event(event_message(5000 + k, at=at + timedelta(minutes=5))).incident
            if spare is None or spare.id == incident.id:
                raise AssertionError(f"seed spare incident {k} was not opened apart")
            world.spares.append(spare.id)
        with hub.database.session(write=True) as session:
            session.execute(update(IncidentRow).values(shared_with=["police"]))
        if with_workflow:
            _seed_workflow(hub, world)
    finally:
        hub.database.close()
    return world


def _seed_workflow(hub: HubService, world: World) -> None:
    admin = hub.identity.users.get("admin")
    if admin is None:
        raise AssertionError("admin missing")
    due = datetime.now(UTC) + timedelta(days=1)
    for incident_id in world.incidents:
        task = hub.workflow.tasks.create_task(incident_id, "police-seoul", "Check the gate", due, "admin")
        world.tasks.append(task.id)
        condition, _grants = hub.conditions.declare(
            kind=ConditionKind.ALERT_LEVEL,
            subtype=None,
            alert_level=2,
            area_codes=[AREA],
            reason="seeded",
            expires_at=datetime.now(UTC) + timedelta(days=1),
            actor=admin,
        )
        world.conditions.append(condition.id)
    attachment = hub.workflow.add_attachment(world.incidents[0], jpeg(1), "gate.jpg", "image/jpeg", "admin")
    world.attachment = attachment.id


def copy_world(template: World, root: Path) -> World:
    """A copy of a seeded hub (database and evidence) under ``root``."""
    shutil.copytree(template.root, root)
    copied = World(root, **{k: v for k, v in vars(template).items() if k != "root"})
    return copied


def seed_clip(hub: HubService, message: EventMessage) -> str:
    """Give ``message``'s event a (tiny, fake) clip the way the bus would; returns its SHA-256."""
    data = b"\x00\x00\x00\x18ftypisom" + hashlib.sha256(str(message.event.id).encode()).digest()
    ref = ClipRef(
        sha256=hashlib.sha256(data).hexdigest(),
        start=message.event.occurred_at - timedelta(seconds=5),
        end=message.event.occurred_at + timedelta(seconds=10),
        duration_s=15.0,
        width=640,
        height=480,
        size=len(data),
    )
    event = message.event
    manifest = ClipManifest(
        camera_id=event.camera_id, center_id=event.center_id, event_ids=[event.id], clip=ref
    )
    hub.clips.chunk(ref.sha256, 0, 1, manifest.model_dump_json(), data)
    return ref.sha256
