"""Cameras and rules from the API: versions, validation as the site file, conflicts, scope, export."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.bus.subjects import ack_subject
from hwarang.domain import AckStatus, CameraConfigCommand, CommandAck, Role, User
from hwarang.edge.config import EdgeConfig
from hwarang.hub.fusion.camera_answers import AckWorker
from hwarang.hub.fusion.camera_versions import CameraConfigStore
from hwarang.hub.service import HubService
from tests.unit.api.api_support import ADMIN_PASSWORD, bearer, login
from tests.unit.api.camera_admin_support import PICTURE, RecordingBus, camera_json, config_service, site_edge

CENTER, CAMERA = "seoul-jung-cc", "cam-jung-01"
EDGE = site_edge(CENTER, CAMERA, lat=37.5636, lon=126.9976)  # 서울 중구 (11140)
ZONE = {"type": "zone_intrusion", "name": "drawn", "polygon": [[10, 10], [200, 10], [200, 200], [10, 200]]}


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def app(hub: HubService, settings: ApiSettings, bus: RecordingBus) -> FastAPI:
    service = config_service(hub, EDGE, bus)
    hub.cameras.upsert(service.camera_of(CENTER, camera_json(EDGE)))
    busan = User(username="admin-busan", display_name="b", agency_code="seoul-jung", roles=(Role.ADMIN,))
    hub.identity.users.create(busan.model_copy(update={"jurisdiction_code": "26"}), ADMIN_PASSWORD)
    return create_app(hub, settings, camera_config=service)


@pytest.fixture
def admin(client: TestClient, admin_token: str) -> dict[str, str]:
    return bearer(admin_token)


def _put(client: TestClient, headers: dict[str, str], version: int, **changes: Any) -> Any:
    body = {"version": version, "config": camera_json(EDGE, **changes)}
    return client.put(f"/api/v1/cameras/{CAMERA}/config", json=body, headers=headers)


def test_site_file_is_version_0_and_a_change_is_stored_audited_and_sent(
    client: TestClient, admin: dict[str, str], bus: RecordingBus, hub: HubService
) -> None:
    first = client.get(f"/api/v1/cameras/{CAMERA}/config", headers=admin).json()
    assert (first["version"], first["center_id"], first["config"]["rules"][0]["name"]) == (0, CENTER, "yard")

    response = _put(client, admin, 0, rules=[*first["config"]["rules"], ZONE])

    assert response.status_code == 200, response.text
    saved = response.json()
    assert (saved["version"], saved["created_by"], saved["edge"]) == (1, "admin", None)
    subject, data = bus.sent[-1]
    command = CameraConfigCommand.model_validate_json(data)
    assert subject == f"hwarang.commands.{CENTER}.camera-config"
    assert (command.version, command.camera_id, command.config["rules"][1]["name"]) == (1, CAMERA, "drawn")
    audit = hub.audit.entries(action="camera.configure")
    assert audit and audit[0].target == f"camera:{CAMERA}" and audit[0].detail["rules"] == ["yard", "drawn"]


def test_a_change_from_an_old_version_is_a_conflict(client: TestClient, admin: dict[str, str]) -> None:
    assert _put(client, admin, 0, rules=[ZONE]).status_code == 200
    response = _put(client, admin, 0, rules=[])
    assert response.status_code == 409
    assert "version 1 is current" in response.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"rules": [{**ZONE, "polygon": [[k, k * k % 97] for k in range(257)]}]},
            "config.rules.0.zone_intrusion.polygon",
        ),
        ({"rules": [{**ZONE, "name": f"r{k}"} for k in range(65)]}, "config.rules"),
        ({"rules": [{**ZONE, "polygon": [[0, 0], [1, 1], [2, 2]]}]}, "config.rules.0.zone_intrusion"),
        (
            {"rules": [{"type": "line_crossing", "name": "t", "start": [0, 0]}]},
            "config.rules.0.line_crossing.end",
        ),
        ({"rules": [{**ZONE, "name": "gate\nfence"}]}, "config.rules.0.zone_intrusion.name"),
        ({"heading_deg": 400}, "config.heading_deg"),
        ({"id": "other-camera"}, "config.id"),
        ({"surprise": 1}, "config.surprise"),
    ],
)
def test_invalid_changes_name_the_field(
    client: TestClient, admin: dict[str, str], bus: RecordingBus, changes: dict[str, Any], field: str
) -> None:
    response = _put(client, admin, 0, **changes)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert bus.sent == []


def test_only_administrators_in_whose_jurisdiction_the_camera_is(
    client: TestClient, operator_token: str, hub: HubService
) -> None:
    url = f"/api/v1/cameras/{CAMERA}/config"
    assert client.get(url, headers=bearer(operator_token)).status_code == 403
    busan = bearer(login(client, "admin-busan", ADMIN_PASSWORD))
    assert client.get(url, headers=busan).status_code == 403
    assert client.get(f"/api/v1/cameras/{CAMERA}/picture", headers=busan).status_code == 403
    denied = hub.audit.entries(action="access.denied")
    assert any(r.target == f"camera:{CAMERA}" and r.actor == "admin-busan" for r in denied)
    exported = yaml.safe_load(client.get("/api/v1/config/export.yaml", headers=busan).text)
    assert exported["edge"]["centers"][0]["cameras"] == []
    new = {"center_id": CENTER, "config": camera_json(EDGE, id="cam-jung-02")}
    assert client.post("/api/v1/cameras", json=new, headers=busan).status_code == 403
    assert client.get("/api/v1/cameras/nope/config", headers=bearer(operator_token)).status_code == 403


def test_add_a_camera(client: TestClient, admin: dict[str, str], bus: RecordingBus) -> None:
    new = {"center_id": CENTER, "config": camera_json(EDGE, id="cam-jung-02", name="second")}
    response = client.post("/api/v1/cameras", json=new, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 1
    assert CameraConfigCommand.model_validate_json(bus.sent[-1][1]).camera_id == "cam-jung-02"
    assert any(c["id"] == "cam-jung-02" for c in client.get("/api/v1/cameras", headers=admin).json())

    assert client.post("/api/v1/cameras", json=new, headers=admin).status_code == 409
    elsewhere = {"center_id": "no-such-cc", "config": camera_json(EDGE, id="cam-x")}
    assert client.post("/api/v1/cameras", json=elsewhere, headers=admin).status_code == 404
    at_sea = {
        "center_id": CENTER,
        "config": camera_json(EDGE, id="cam-y", position={"lat": 30.0, "lon": 140.0}),
    }
    response = client.post("/api/v1/cameras", json=at_sea, headers=admin)
    assert response.status_code == 422 and "config.position" in response.json()["message"]


def test_picture_and_export(client: TestClient, admin: dict[str, str], hub: HubService) -> None:
    picture = client.get(f"/api/v1/cameras/{CAMERA}/picture", headers=admin)
    assert (picture.status_code, picture.headers["content-type"], picture.content) == (
        200,
        "image/jpeg",
        PICTURE,
    )
    assert hub.audit.entries(action="camera.picture")[0].target == f"camera:{CAMERA}"
    assert _put(client, admin, 0, rules=[ZONE]).status_code == 200

    text = client.get("/api/v1/config/export.yaml", headers=admin).text

    edge = EdgeConfig.model_validate(yaml.safe_load(text)["edge"])
    assert [rule.name for rule in edge.centers[0].cameras[0].rules] == ["drawn"]


def test_the_edges_answer_is_stored_on_its_version(
    client: TestClient, admin: dict[str, str], bus: RecordingBus, hub: HubService
) -> None:
    assert _put(client, admin, 0, rules=[ZONE]).status_code == 200
    command = CameraConfigCommand.model_validate_json(bus.sent[-1][1])

    def answer(center: str, claimed: str, status: AckStatus) -> bytes:
        ack = CommandAck(
            command_id=command.command_id,
            center_id=claimed,
            camera_id=CAMERA,
            version=1,
            status=status,
            how="rules",
            at=datetime.now(UTC),
        )
        return ack.model_dump_json().encode()

    async def deliver() -> AckWorker:
        worker = AckWorker(bus, CameraConfigStore(hub.database), durable=f"t-{uuid.uuid4()}")
        await bus.publish(ack_subject("other-cc"), answer("other-cc", CENTER, AckStatus.REFUSED))  # forged
        await bus.publish(ack_subject(CENTER), answer(CENTER, CENTER, AckStatus.APPLIED))
        await bus.publish(ack_subject(CENTER), answer(CENTER, CENTER, AckStatus.STALE))  # redelivered
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        for _ in range(500):  # bounded: 10 s
            if worker.recorded + worker.dropped >= 3:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await task
        return worker

    worker = asyncio.run(deliver())

    assert (worker.recorded, worker.dropped) == (2, 1)
    edge = client.get(f"/api/v1/cameras/{CAMERA}/config", headers=admin).json()["edge"]
    assert (edge["status"], edge["how"]) == ("applied", "rules")


def test_a_starting_hub_sends_each_cameras_newest_version_again(
    client: TestClient, admin: dict[str, str], bus: RecordingBus
) -> None:
    assert _put(client, admin, 0, rules=[ZONE]).status_code == 200
    service = client.app.state.hwarang.camera_config  # type: ignore[attr-defined]

    sent = asyncio.run(service.resend_latest())

    assert sent == 1
    first, again = (CameraConfigCommand.model_validate_json(data) for _, data in bus.sent[-2:])
    assert (again.version, again.command_id, again.config) == (1, first.command_id, first.config)


@pytest.fixture
def no_admin_client(hub: HubService, settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(create_app(hub, settings)) as client:
        yield client


def test_without_the_service_the_routes_say_so(no_admin_client: TestClient) -> None:
    token = login(no_admin_client, "admin", ADMIN_PASSWORD)
    response = no_admin_client.get(f"/api/v1/cameras/{CAMERA}/config", headers=bearer(token))
    assert response.status_code == 503
