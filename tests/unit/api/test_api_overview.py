"""``/api/v1/statistics`` and ``/api/v1/search`` over the incidents the caller may view."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from hwarang.domain import GeoPoint, Incident, IncidentState
from hwarang.hub.service import HubService
from tests.hub_support import make_message, new_incident
from tests.unit.api.api_support import ADMIN_PASSWORD, bearer, login


def _incidents(hub: HubService) -> list[Incident]:
    now = datetime.now(UTC)
    made = []
    for i, (camera, lat) in enumerate([("pier-cam-1", 37.56), ("pier-cam-1", 37.58), ("gate-cam-2", 37.60)]):
        message = make_message(
            camera_id=camera,
            rule_name=f"quay-{i}",
            track_id=i + 1,
            seed=i,
            occurred_at=now - timedelta(minutes=30 - i),
            geo=GeoPoint(lat=lat, lon=126.99),
        )
        made.append(new_incident(hub, message))
    return made


def test_statistics_count_areas_severity_hours_response_times_and_false_alarms(
    hub: HubService, client: TestClient
) -> None:
    first, second, _third = _incidents(hub)
    hub.workflow.transition(first.id, IncidentState.ACKNOWLEDGED, "admin")
    hub.workflow.transition(first.id, IncidentState.FALSE_ALARM, "admin", "a gull")
    hub.workflow.transition(second.id, IncidentState.ACKNOWLEDGED, "admin")
    token = login(client, "admin", ADMIN_PASSWORD)

    answer = client.get("/api/v1/statistics", params={"hours": 2}, headers=bearer(token))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 3
    assert body["by_sido"] == {"11": 3} and sum(body["by_local_government"].values()) == 3
    assert sum(body["by_hour_kst"]) == 3 and len(body["by_hour_kst"]) == 24
    assert body["by_state"] == {"acknowledged": 1, "false_alarm": 1, "new": 1}
    assert body["acknowledge"]["count"] == 2 and body["acknowledge"]["median_s"] > 60
    assert body["resolve"]["count"] == 1
    assert body["false_alarms_by_camera"] == [
        {"camera_id": "pier-cam-1", "camera_name": "pier-cam-1", "closed": 1, "false_alarms": 1, "share": 1.0,
         "schema_version": 1}
    ]  # fmt: skip
    assert client.get("/api/v1/statistics", params={"hours": 0}, headers=bearer(token)).status_code == 422


def test_search_finds_titles_and_notes_and_refuses_an_empty_query(
    hub: HubService, client: TestClient
) -> None:
    first, _second, third = _incidents(hub)
    hub.workflow.add_note(third.id, "admin", "트럭이 정문 앞에 정차")
    token = login(client, "admin", ADMIN_PASSWORD)

    def ids(q: str) -> list[str]:
        answer = client.get("/api/v1/search", params={"q": q}, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()]

    assert ids("quay-0") == [str(first.id)]
    assert ids("정문") == [str(third.id)]
    assert set(ids("pier")) == {str(first.id), str(_second.id)}
    refused = client.get("/api/v1/search", params={"q": "**"}, headers=bearer(token))
    assert refused.status_code == 422 and "search for words" in refused.text
