"""Events posted through the API are bound to the poster's center, cameras and jurisdiction."""

from fastapi.testclient import TestClient

from hwarang.hub.service import HubService
from tests.hub_support import make_camera
from tests.unit.api.api_support import bearer, make_message, message_json


def _post(client: TestClient, token: str, **event_updates: object) -> tuple[int, str]:
    message = make_message(7)
    message = message.model_copy(update={"event": message.event.model_copy(update=event_updates)})
    response = client.post("/api/v1/events", json=message_json(message), headers=bearer(token))
    return response.status_code, response.text


def test_operator_posts_only_for_its_own_center_and_its_cameras(
    client: TestClient, operator_token: str, hub: HubService
) -> None:
    hub.cameras.upsert(make_camera("cam-01"))
    hub.cameras.upsert(make_camera("cam-busan").model_copy(update={"center_id": "busan-cc"}))
    status, text = _post(client, operator_token, center_id="busan-cc", camera_id="cam-77")
    assert status == 403 and "the event names center busan-cc" in text
    status, text = _post(client, operator_token, camera_id="cam-busan")
    assert status == 403 and "camera cam-busan belongs to center busan-cc" in text
    status, text = _post(client, operator_token, camera_id="cam-01", sigungu_code="11110")
    assert status == 403 and "camera cam-01 stands in 11140" in text
    status, _ = _post(client, operator_token, camera_id="cam-01")
    assert status == 201


def test_admin_may_post_for_any_center_but_not_for_anothers_camera(
    client: TestClient, admin_token: str, hub: HubService
) -> None:
    hub.cameras.upsert(make_camera("cam-01"))
    status, text = _post(client, admin_token, center_id="busan-cc", camera_id="cam-01")
    assert status == 403 and "belongs to center seoul-jung" in text
    status, _ = _post(client, admin_token, center_id="busan-cc", camera_id="cam-new")
    assert status == 201
