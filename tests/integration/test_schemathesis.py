"""Schemathesis over every operation of the API's own OpenAPI: no 5xx, responses match the schema.

A bounded, derandomized run (a fixed number of examples per operation) against the real app on a
temporary PostgreSQL hub (a fresh schema, dropped afterwards; NUL bytes and integers beyond 64 bits
are what PostgreSQL refuses and SQLite lets through), as an administrator, so role checks do not
hide the handlers. Operations are read from ``create_app`` when the module is collected (one test
per operation), so routes added later are covered without touching this file.

``schemathesis.pytest.from_fixture`` would build the schema from a fixture instead, but schemathesis
4.32 reads ``Node._nodeid``, which pytest 9.2 no longer has; the document is therefore built here
from an app whose database is never opened (building the OpenAPI document does no I/O).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.domain import Role, User
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.hub_support import pg_schema_url
from tests.unit.api.camera_admin_support import RecordingBus, config_service, site_edge

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "schemathesis-admin-password"
OPENAPI_PATH = "/api/v1/openapi.json"
EXAMPLES_PER_OPERATION = 20
CREDENTIAL_ROUTES = frozenset({"/api/v1/auth/token", "/api/v1/auth/refresh"})
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The API on a migrated temporary PostgreSQL hub (shared by every operation), with the default
    agencies."""
    tmp_path = tmp_path_factory.mktemp("schemathesis-hub")
    schema = pg_schema_url()
    database = Database(next(schema))
    database.migrate()
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    service = HubService(database, EvidenceStore(tmp_path / "evidence"), password_hasher=hasher)
    service.identity.ensure_admin(ADMIN_PASSWORD)
    operator = User(username="op1", display_name="op1", agency_code="idhq", roles=(Role.OPERATOR,))
    service.identity.users.create(operator, "operator-password")
    # Camera configuration enabled as the runtimes enable it (a site file's edge, a bus to the edge).
    cameras = config_service(
        service, site_edge("fuzz-center", "fuzz-cam", lat=37.5729, lon=126.9794), RecordingBus()
    )
    yield create_app(service, ApiSettings(jwt_secret=SecretStr("s" * 40)), camera_config=cameras)
    database.close()
    schema.close()  # drops the schema


@pytest.fixture(scope="module")
def admin_headers(fuzz_app: FastAPI) -> dict[str, str]:
    """An administrator's bearer header (one login, valid for the whole bounded run)."""
    with TestClient(fuzz_app) as client:
        response = client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def api_schema(fuzz_app: FastAPI, admin_headers: dict[str, str]) -> schemathesis.BaseSchema:
    """The OpenAPI document as the live (token-protected) route serves it."""
    return schemathesis.openapi.from_asgi(OPENAPI_PATH, fuzz_app, headers=admin_headers)


def _document() -> dict[str, Any]:
    offline = HubService(Database("sqlite://"), EvidenceStore(Path("unused-evidence")))
    document: dict[str, Any] = create_app(offline, ApiSettings(jwt_secret=SecretStr("d" * 40))).openapi()
    return document


schema = schemathesis.openapi.from_dict(_document())


def test_openapi_lists_the_routes_of_the_app(fuzz_app: FastAPI, api_schema: schemathesis.BaseSchema) -> None:
    results = list(api_schema.get_all_operations())
    loaded = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(loaded) == len(results), [r.err() for r in results if not isinstance(r, Ok)]
    operations = {(op.method.upper(), op.path) for op in loaded}
    routes = {
        (method, path)
        for path, item in fuzz_app.openapi()["paths"].items()
        for method in (m.upper() for m in item)
    }

    assert ("POST", "/api/v1/auth/token") in operations
    assert ("GET", "/api/v1/incidents") in operations
    assert operations == routes
    assert len(operations) >= 10


def test_error_answers_are_documented() -> None:
    document = _document()
    paths = document["paths"]
    incident = paths["/api/v1/incidents/{incident_id}"]["get"]["responses"]
    login = paths["/api/v1/auth/token"]["post"]["responses"]
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}

    assert {"401", "403", "404", "422", "503"} <= incident.keys()
    assert incident["422"]["content"]["application/json"]["schema"] == error_ref
    assert "403" not in login
    assert {"400", "401", "422", "503"} <= login.keys()
    detail = document["components"]["schemas"]["ErrorResponse"]["properties"]["detail"]
    assert [option["type"] for option in detail["anyOf"]] == ["string", "array"]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_api_conforms_to_its_schema(
    case: schemathesis.Case[Any], fuzz_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    response = case.call_and_validate(app=fuzz_app, headers=admin_headers, checks=CHECKS)
    if case.operation.path not in CREDENTIAL_ROUTES:  # else every answer could be a documented 401
        assert response.status_code != 401, f"the admin token was refused: {response.text}"
