"""The exercise floor: a synthetic intruder drawn into the real PETS 2009 clip, found by the real edge
analytics, carried as an EXERCISE event over the bus into a real hub, acknowledged and tasked through
the real API at controlled times, and measured: the evaluation's times equal the injected timings.
"""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.bus import MemoryBus
from hwarang.domain import (
    Agency,
    AgencyKind,
    BoundingBox,
    Camera,
    Event,
    EventMessage,
    GeoPoint,
    ObjectClass,
    Role,
    RuleKind,
    User,
    stable_event_id,
)
from hwarang.edge.config import CameraConfig
from hwarang.exercise.figures import run_overlay_camera
from hwarang.exercise.hubclock import ManualClock
from hwarang.exercise.injector import BusEventSink
from hwarang.exercise.measurement import measure
from hwarang.exercise.plan import ExercisePlan, plan_exercise
from hwarang.exercise.scenario import FigureInject, load_scenario
from hwarang.exercise.scoring import evaluate
from hwarang.geo.regions import default_catalog
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.worker import IngestWorker
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database

pytestmark = pytest.mark.integration

SCENARIO = Path(str(files("hwarang.exercise") / "scenarios" / "vtest-plaza.yaml"))
ZONE = [(460.0, 440.0), (720.0, 440.0), (720.0, 525.0), (460.0, 525.0)]
"""The empty lower right of the plaza: no ground-truth pedestrian of PETS09-S2L1 stands here."""
DWELL_S = 0.5
FRAME_S = 0.1  # the clip runs at 10 fps
TOLERANCE_S = 2 * FRAME_S
"""The rule fires on the first frame at least DWELL_S after the first frame with the feet inside the
zone; both instants fall on 0.1 s frame boundaries, so detection is exact up to two frame times."""
PASSWORD = "exercise-password-1"
# When the people act, in seconds after the inject (what the evaluation must measure).
ACK_AT, RESPOND_AT, TASK_AT, TASK_ACK_AT, RESOLVE_AT = 95.0, 120.0, 140.0, 200.0, 900.0

CAMERA = Camera(
    id="icn-harbour-plaza-01",
    center_id="icn-jung",
    name="인천항 제1부두",
    position=GeoPoint(lat=37.4736, lon=126.6216),
    sido_code="28",
    sigungu_code="28110",
)


def camera_config(video: Path) -> CameraConfig:
    return CameraConfig.model_validate(
        {
            "id": CAMERA.id,
            "name": CAMERA.name,
            "position": CAMERA.position.model_dump(),
            "sido_code": "28",
            "sigungu_code": "28110",
            "source": {"type": "file", "path": str(video)},
            "detector": {"type": "motion"},  # the injected figures are drawn shapes
            "rules": [{"type": "zone_intrusion", "name": "quay", "polygon": ZONE, "min_dwell_s": DWELL_S}],
        }
    )


def real_event(start: datetime) -> EventMessage:
    """A real (non-exercise) detection elsewhere in the same local government."""
    at = start + timedelta(seconds=600)
    event = Event(
        id=stable_event_id("gate-02", "gate", 1, at),
        camera_id="gate-02",
        center_id="icn-jung",
        sido_code="28",
        sigungu_code="28110",
        occurred_at=at,
        object_class=ObjectClass.PERSON,
        confidence=0.8,
        box=BoundingBox(x1=1, y1=1, x2=20, y2=60),
        track_id=1,
        rule=RuleKind.ZONE_INTRUSION,
        rule_name="gate",
        geo=GeoPoint(lat=37.47, lon=126.62),
        frame_index=1,
    )
    return EventMessage(event=event)


@dataclass
class Exercise:
    plan: ExercisePlan
    service: HubService
    client: TestClient
    clock: ManualClock
    edge_events: list[EventMessage]
    exercise_incident: uuid.UUID
    real_incident: uuid.UUID


async def _through_bus(messages: list[EventMessage], service: HubService) -> int:
    bus = MemoryBus()
    try:
        await BusEventSink(bus)(messages)
        worker = IngestWorker(bus, service.ingest)
        ingested = 0
        while await worker.process_batch(timeout_s=0.2):
            ingested = worker.stats.ingested
        await worker.close()
        return ingested
    finally:
        await bus.close()


def _token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def exercise(vtest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exercise]:
    loaded = load_scenario(SCENARIO)
    plan = plan_exercise(loaded, cameras={CAMERA.id: CAMERA})
    start = plan.start

    edge_events: list[EventMessage] = []
    run_overlay_camera(CAMERA, camera_config(vtest_path), edge_events.append, plan=plan, start_time=start)

    root = tmp_path_factory.mktemp("exercise-hub")
    database = Database(f"sqlite:///{root / 'hub.sqlite3'}")
    database.migrate()
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    clock = ManualClock(start)
    service = HubService(database, EvidenceStore(root / "evidence"), password_hasher=hasher, clock=clock.now)
    service.identity.ensure_admin(PASSWORD)
    service.identity.agencies.upsert(
        [
            Agency(code="icn-jung", name="인천 중구 통합관제센터", kind=AgencyKind.LOCAL_GOVERNMENT,
                   jurisdiction_code="28110"),
            Agency(code="police-28", name="인천경찰청", kind=AgencyKind.POLICE, jurisdiction_code="28"),
        ]
    )  # fmt: skip
    for username, agency, role in (
        ("op-jung", "icn-jung", Role.OPERATOR),
        ("liaison-police", "police-28", Role.AGENCY_LIAISON),
    ):
        user = User(username=username, display_name=username, agency_code=agency, jurisdiction_code="28110",
                    roles=(role,))  # fmt: skip
        service.identity.users.create(user, PASSWORD)

    ingested = asyncio.run(_through_bus([*edge_events, real_event(start)], service))
    assert ingested == len(edge_events) + 1

    exercise_rows = service.incidents.recent(include_exercise=True)
    exercise_ids = [i.id for i in exercise_rows if i.exercise]
    real_ids = [i.id for i in exercise_rows if not i.exercise]
    assert len(exercise_ids) == 1 and len(real_ids) == 1, exercise_rows
    app = create_app(service, ApiSettings(jwt_secret=SecretStr("exercise-test-key-" + "x" * 32)))
    with TestClient(app) as client:
        yield Exercise(plan, service, client, clock, edge_events, exercise_ids[0], real_ids[0])
    database.close()


def _act(ex: Exercise, at_s: float, method: str, path: str, user: str, body: dict[str, Any]) -> Any:
    inject = ex.plan.injects[0]
    ex.clock.set(inject.at + timedelta(seconds=at_s))
    response = ex.client.request(method, path, json=body, headers=_token(ex.client, user))
    assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
    return response.json()


def test_the_real_analytics_find_the_drawn_intruder_as_an_exercise_event(exercise: Exercise) -> None:
    inject = exercise.plan.injects[0]
    assert isinstance(inject.action, FigureInject)
    assert len(exercise.edge_events) == 1, [m.event for m in exercise.edge_events]
    event = exercise.edge_events[0].event
    assert event.exercise is True
    assert event.camera_id == CAMERA.id and event.rule_name == "quay"
    stored = exercise.service.incidents.event(event.id)
    assert stored is not None and stored.exercise is True
    incident = exercise.service.incidents.get(exercise.exercise_incident)
    assert incident is not None and incident.exercise is True and incident.event_ids == (event.id,)


def test_exercise_incidents_stay_out_of_normal_lists_and_exports(exercise: Exercise) -> None:
    headers = _token(exercise.client, "op-jung")
    listed = exercise.client.get("/api/v1/incidents", headers=headers).json()
    assert [i["id"] for i in listed] == [str(exercise.real_incident)]
    everything = exercise.client.get("/api/v1/incidents?include_exercise=true", headers=headers).json()
    assert {i["id"] for i in everything} == {str(exercise.real_incident), str(exercise.exercise_incident)}
    features = exercise.client.get("/api/v1/incidents.geojson", headers=headers).json()["features"]
    assert all(f["properties"]["exercise"] is False for f in features) and len(features) == 1
    assert len(exercise.service.incidents.recent()) == 1


def test_measured_times_equal_the_injected_timings(exercise: Exercise) -> None:
    transitions = f"/api/v1/incidents/{exercise.exercise_incident}/transitions"
    tasks = f"/api/v1/incidents/{exercise.exercise_incident}/tasks"
    inject = exercise.plan.injects[0]
    _act(exercise, ACK_AT, "POST", transitions, "op-jung", {"to": "acknowledged", "reason": "seen"})
    _act(exercise, RESPOND_AT, "POST", transitions, "op-jung", {"to": "responding"})
    due = (inject.at + timedelta(seconds=1800)).isoformat()
    body = {"agency_code": "police-28", "title": "현장 출동 (dispatch)", "due_at": due}
    task = _act(exercise, TASK_AT, "POST", tasks, "op-jung", body)
    task_state = f"/api/v1/tasks/{task['id']}/state"
    _act(exercise, TASK_ACK_AT, "POST", task_state, "liaison-police", {"state": "acknowledged"})
    _act(exercise, RESOLVE_AT, "POST", transitions, "op-jung", {"to": "resolved", "reason": "caught"})

    later = inject.at + timedelta(hours=1)
    measurement = measure(exercise.service.database, exercise.plan, measured_at=later)
    assert measurement.false_alarms == []
    (result,) = measurement.injects
    assert result.incident_id == exercise.exercise_incident and result.duplicates == 0
    action = inject.action
    assert isinstance(action, FigureInject) and action.enters_zone_s is not None
    expected_detection = action.enters_zone_s + DWELL_S
    assert result.detected_s is not None
    assert abs(result.detected_s - expected_detection) <= TOLERANCE_S, result.detected_s
    assert result.acknowledged_s == ACK_AT
    assert result.resolved_s == RESOLVE_AT and result.closed_as == "resolved"
    police, military = result.agencies
    assert (police.agency_code, police.shared_s, police.tasked_s) == ("police-28", TASK_AT, TASK_AT)
    assert police.task_acknowledged_s == TASK_ACK_AT
    assert military.shared_s is None and military.late == ["share"]
    assert result.late == ["share"] and result.audit_complete

    evaluation = evaluate(measurement, default_catalog(), generated_at=later)
    local = evaluation.score("local_government", "28110")
    assert local is not None and local.injects == 1 and local.late == 1
    # Everything in time but the military was never informed: share scores 1 of 2 observations.
    assert local.items["share"].score == 50.0 and local.items["acknowledge"].score == 100.0
    assert evaluation.score("agency", "police-28") is not None


def test_a_live_camera_worker_tags_the_events_of_drawn_figures(vtest_path: Path) -> None:
    """The edge node path (camera worker on the analytics pool), not the offline runner, tags them."""
    from hwarang.edge.analytics_pool import AnalyticsPool
    from hwarang.edge.camera_worker import CameraWorker
    from hwarang.edge.sources.file import FileSourceConfig
    from hwarang.exercise.figures import overlay_config

    plan = plan_exercise(load_scenario(SCENARIO), cameras={CAMERA.id: CAMERA})
    base = FileSourceConfig(type="file", path=vtest_path, realtime=False, loop=False, start_time=plan.start)
    config = camera_config(vtest_path).model_copy(
        update={"source": overlay_config(base, plan, CAMERA.id, plan.start)}
    )
    published: list[EventMessage] = []
    pool = AnalyticsPool(workers=1)
    pool.start()
    worker = CameraWorker(CAMERA, config, published.append, pool=pool, queue_size=4096)
    worker.start()
    try:
        assert worker.wait(60), "the clip should be analysed within a minute"
    finally:
        worker.stop()
        pool.stop()

    quay = [m.event for m in published if m.event.rule_name == "quay"]
    assert quay and all(event.exercise for event in quay), (
        "the drawn intruder's zone events are the exercise's"
    )
    assert worker.health().events == len(published)
