"""The interop routes: external detections in (same ingest as edge events), incidents out as
CAP, CoT XML, TAK protobuf and GeoJSON, each behind authentication."""

import uuid
from typing import Any

import pytest
import takproto
from fastapi.testclient import TestClient
from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from lxml import etree

from hwarang.hub.service import HubService
from hwarang.interop.cap import CAP_NS
from hwarang.interop.cap_validate import validate_cap, validate_cap_schema
from hwarang.interop.exporters import EXPORTERS
from tests.unit.interop.interop_support import detection_body, snapshot_body

DETECTIONS = "/api/v1/detections"
AnyFeature = Feature[Geometry, dict[str, Any]]


def _post(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post(DETECTIONS, json=detection_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_detection_is_ingested_once_and_audited(
    client: TestClient, hub: HubService, operator: dict[str, str]
) -> None:
    first = client.post(DETECTIONS, json=detection_body(snapshot=snapshot_body()), headers=operator)
    assert first.status_code == 201, first.text
    again = client.post(DETECTIONS, json=detection_body(snapshot=snapshot_body()), headers=operator)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    body = first.json()
    event = hub.incidents.event(uuid.UUID(body["event_id"]))
    assert event is not None and event.object_class.value == "person" and event.snapshot is not None
    assert hub.evidence.path(event.snapshot.sha256) is not None
    incident = hub.incidents.get(uuid.UUID(body["incident_id"]))
    assert incident is not None and incident.camera_id == "cam-7"
    actions = [entry.action for entry in hub.audit.entries(limit=50)]
    assert actions.count("detection.post") == 1


def test_detection_needs_an_operator_and_valid_input(
    client: TestClient, hub: HubService, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    assert client.post(DETECTIONS, json=detection_body()).status_code == 401
    assert client.post(DETECTIONS, json=detection_body(), headers=viewer).status_code == 403
    elsewhere = client.post(
        DETECTIONS, json=detection_body(sido_code="26", sigungu_code="26110"), headers=operator
    )
    assert elsewhere.status_code == 403 and "outside your jurisdiction" in elsewhere.json()["detail"]
    bad = client.post(DETECTIONS, json=detection_body(sigungu_code="26110"), headers=operator)
    assert bad.status_code == 422
    assert "sigungu_code 26110 is not in sido 11" in bad.json()["message"]
    unknown = _post(client, operator, label="forklift")
    event = hub.incidents.event(uuid.UUID(unknown["event_id"]))
    assert event is not None and event.object_class.value == "unknown"


def test_incident_exports(client: TestClient, operator: dict[str, str], viewer: dict[str, str]) -> None:
    incident_id = _post(client, operator)["incident_id"]
    base = f"/api/v1/incidents/{incident_id}"

    cap = client.get(f"{base}/cap", headers=operator)
    assert cap.status_code == 200 and cap.headers["content-type"].startswith("application/cap+xml")
    validate_cap(cap.content)
    validate_cap_schema(cap.content)
    root = etree.fromstring(cap.content)
    area = root.findtext("cap:info/cap:area/cap:areaDesc", namespaces={"cap": CAP_NS})
    assert area == "서울특별시 중구 (11140)"

    cot = client.get(f"{base}/cot", params={"stale_s": 120}, headers=operator)
    assert cot.status_code == 200 and cot.headers["content-type"].startswith("application/xml")
    message = takproto.parse_proto(bytearray(cot.content))
    assert message is not None and message.cotEvent.uid == f"hwarang-incident-{incident_id}"
    assert message.cotEvent.staleTime - message.cotEvent.sendTime == 120_000

    proto = client.get(f"{base}/cot.pb", headers=operator)
    assert proto.status_code == 200 and proto.headers["content-type"] == "application/octet-stream"
    parsed = takproto.parse_proto(bytearray(proto.content))
    assert parsed is not None and parsed.cotEvent.lat == pytest.approx(37.5636)

    feature = client.get(f"{base}/geojson", headers=operator)
    assert feature.headers["content-type"].startswith("application/geo+json")
    assert AnyFeature.model_validate_json(feature.content).id == incident_id

    assert client.get(f"{base}/cap", headers=viewer).status_code == 403  # evaluators read, never export
    collection = client.get("/api/v1/incidents.geojson", headers=operator)
    assert collection.status_code == 200
    parsed_collection = FeatureCollection[AnyFeature].model_validate_json(collection.content)
    assert [f.id for f in parsed_collection.features] == [incident_id]
    ns = {"cap": CAP_NS}
    assert root.findtext("cap:msgType", namespaces=ns) == "Alert"
    assert root.findtext("cap:info/cap:web", namespaces=ns) == f"http://testserver/?incident={incident_id}"
    assert root.findtext("cap:info/cap:expires", namespaces=ns)
    first_id = root.findtext("cap:identifier", namespaces=ns)
    closed = client.post(
        f"{base}/transitions", json={"to": "false_alarm", "reason": "a shadow"}, headers=operator
    )
    assert closed.status_code == 200, closed.text
    cancel = etree.fromstring(client.get(f"{base}/cap", headers=operator).content)
    assert cancel.findtext("cap:msgType", namespaces=ns) == "Cancel"  # references the first alert
    assert (cancel.findtext("cap:references", namespaces=ns) or "").split(",")[1] == first_id


def test_exports_need_a_login_and_an_existing_incident(client: TestClient, operator: dict[str, str]) -> None:
    missing = uuid.uuid4()
    for suffix in ("cap", "cot", "cot.pb", "geojson"):
        path = f"/api/v1/incidents/{missing}/{suffix}"
        assert client.get(path).status_code == 401
        response = client.get(path, headers=operator)
        assert response.status_code == 404 and str(missing) in response.text
    assert client.get("/api/v1/incidents.geojson").status_code == 401


def test_every_registered_format_is_served_by_the_export_route(
    client: TestClient, operator: dict[str, str], hub: HubService
) -> None:
    incident_id = _post(client, operator)["incident_id"]
    base = f"/api/v1/incidents/{incident_id}"
    media = {"cap": "application/cap+xml", "cot": "application/xml", "geojson": "application/geo+json"}
    for fmt in EXPORTERS.types:
        response = client.get(f"{base}/export/{fmt}", headers=operator)
        assert response.status_code == 200, (fmt, response.text)
        assert response.headers["content-type"].startswith(media.get(fmt, "application/octet-stream"))
    assert AnyFeature.model_validate_json(client.get(f"{base}/export/geojson", headers=operator).content)
    unknown = client.get(f"{base}/export/kml", headers=operator)
    assert unknown.status_code == 404 and "known: cap, cot, geojson, tak-protobuf" in unknown.text
    exports = hub.audit.entries(limit=50, action="interop.export", target=f"incident:{incident_id}")
    assert sorted(e.detail["format"] for e in exports) == sorted([*EXPORTERS.types, "geojson"])


def test_incident_without_position(client: TestClient, operator: dict[str, str]) -> None:
    body = detection_body()
    del body["lat"], body["lon"]
    response = client.post(DETECTIONS, json=body, headers=operator)
    incident_id = response.json()["incident_id"]
    base = f"/api/v1/incidents/{incident_id}"
    for suffix in ("cot", "cot.pb"):
        conflict = client.get(f"{base}/{suffix}", headers=operator)
        assert conflict.status_code == 409 and "no position" in conflict.text
    assert client.get(f"{base}/geojson", headers=operator).json()["geometry"] is None
    validate_cap_schema(client.get(f"{base}/cap", headers=operator).content)
    collection = client.get("/api/v1/incidents.geojson", headers=operator).json()
    assert collection["features"] == [] and collection["skipped_without_geo"] == 1


def test_detections_only_from_registered_cameras_of_the_posters_center(
    client: TestClient, hub: HubService, operator: dict[str, str]
) -> None:
    unknown = client.post(DETECTIONS, json=detection_body(camera_id="cam-404"), headers=operator)
    assert unknown.status_code == 403
    assert "camera cam-404 is not registered" in unknown.json()["detail"]
    other = client.post(DETECTIONS, json=detection_body(center_id="busan-cc"), headers=operator)
    assert other.status_code == 403
    assert "the event names center busan-cc" in other.json()["detail"]
    stored = _post(client, operator)
    event = hub.incidents.event(uuid.UUID(stored["event_id"]))
    assert event is not None and event.center_id == "seoul-jung"
