"""``/api/v1/audit`` (list, verify) and ``/api/v1/incidents/{id}/package`` (evidence packages)."""

import hashlib
import io
import json
import uuid
import zipfile

from fastapi.testclient import TestClient
from sqlalchemy import text

from hwarang.api.routers.evidence_package import MANIFEST_HEADER
from hwarang.hub.evidence.package import MANIFEST_NAME, PackageManifest
from hwarang.hub.service import HubService
from tests.unit.api.api_support import bearer, make_message, message_json


def _post_incident(client: TestClient, token: str) -> str:
    response = client.post(
        "/api/v1/events", json=message_json(make_message(1, snapshot=True)), headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    incident_id: str = response.json()["incident_id"]
    return incident_id


def test_evaluators_list_the_trail_with_hashes(
    client: TestClient, viewer_token: str, admin_token: str
) -> None:
    response = client.get("/api/v1/audit", params={"limit": 5}, headers=bearer(viewer_token))
    assert response.status_code == 200, response.text
    entries = response.json()
    ids = [entry["id"] for entry in entries]
    assert ids == sorted(ids, reverse=True) and len(entries) == 5
    assert all(len(entry["hash"]) == 64 and len(entry["prev_hash"]) == 64 for entry in entries)
    page = client.get("/api/v1/audit", params={"before_id": ids[-1], "limit": 2}, headers=bearer(admin_token))
    assert [entry["id"] for entry in page.json()] == [ids[-1] - 1, ids[-1] - 2]
    logins = client.get("/api/v1/audit", params={"action": "auth.login"}, headers=bearer(admin_token)).json()
    assert {entry["actor"] for entry in logins} == {"viewer", "admin"}


def test_operators_may_not_read_the_trail(client: TestClient, operator_token: str) -> None:
    assert client.get("/api/v1/audit", headers=bearer(operator_token)).status_code == 403
    assert client.get("/api/v1/audit/verify", headers=bearer(operator_token)).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


def test_verify_reports_ok_then_the_edited_record(
    client: TestClient, admin_token: str, hub: HubService
) -> None:
    report = client.get("/api/v1/audit/verify", headers=bearer(admin_token)).json()
    assert report["ok"] is True and report["problem"] is None and report["records"] == report["last_id"] > 0
    with hub.database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
    report = client.get("/api/v1/audit/verify", headers=bearer(admin_token)).json()
    assert report["ok"] is False
    assert report["problem"] == {
        "record_id": 2,
        "kind": "hash_mismatch",
        "message": "record 2: hash mismatch (edited?)",
    }


def test_package_download_is_a_checked_zip_and_audited(
    client: TestClient, operator_token: str, hub: HubService
) -> None:
    incident_id = _post_incident(client, operator_token)
    response = client.get(f"/api/v1/incidents/{incident_id}/package", headers=bearer(operator_token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f"incident-{incident_id}.zip" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        manifest_bytes = archive.read(MANIFEST_NAME)
        manifest = PackageManifest.model_validate_json(manifest_bytes)
        for entry in manifest.files:
            assert hashlib.sha256(archive.read(entry.path)).hexdigest() == entry.sha256
        incident = json.loads(archive.read("incident.json"))
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    assert response.headers[MANIFEST_HEADER] == manifest_sha
    assert str(manifest.incident_id) == incident_id == incident["id"] and manifest.creator == "op1"
    assert any(entry.path.startswith("snapshots/") for entry in manifest.files)
    export = hub.audit.entries(1, action="evidence.export")[0]
    assert (export.actor, export.target) == ("op1", f"incident:{incident_id}")
    assert export.detail["manifest_sha256"] == manifest_sha and export.detail["client"] == "testclient"


def test_package_needs_evidence_access(client: TestClient, operator_token: str, viewer_token: str) -> None:
    incident_id = _post_incident(client, operator_token)
    assert (
        client.get(f"/api/v1/incidents/{incident_id}/package", headers=bearer(viewer_token)).status_code
        == 403
    )
    missing = client.get(f"/api/v1/incidents/{uuid.uuid4()}/package", headers=bearer(operator_token))
    assert missing.status_code == 404
