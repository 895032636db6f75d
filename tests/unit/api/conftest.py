"""API fixtures: the real HubService on a temporary SQLite database, and a TestClient around it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hwarang.api.app import create_app
from hwarang.api.settings import ApiSettings
from hwarang.domain import Agency, AgencyKind, Role, User
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.unit.api.api_support import ADMIN_PASSWORD, OPERATOR_PASSWORD, TEST_SECRET, VIEWER_PASSWORD, login

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def hub_options() -> dict[str, Any]:
    """Extra keyword arguments of the hub's HubService (a test module overrides this fixture)."""
    return {}


@pytest.fixture
def hub(tmp_path: Path, hub_options: dict[str, Any]) -> Iterator[HubService]:
    """A migrated hub with users admin (admin), op1 (operator) and viewer (evaluator)."""
    database = Database(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    database.migrate()
    service = HubService(
        database, EvidenceStore(tmp_path / "evidence"), password_hasher=FAST_HASHER, **hub_options
    )
    service.identity.ensure_admin(ADMIN_PASSWORD)
    # op1 and viewer work for a registered local government: need-to-know lets them see its incidents.
    service.identity.agencies.upsert(
        [Agency(code="seoul-jung", name="서울 중구", kind=AgencyKind.LOCAL_GOVERNMENT)]
    )
    for username, role, password in (
        ("op1", Role.OPERATOR, OPERATOR_PASSWORD),
        ("viewer", Role.EVALUATOR, VIEWER_PASSWORD),
    ):
        user = User(username=username, display_name=username, agency_code="seoul-jung", roles=(role,))
        service.identity.users.create(user, password)
    yield service
    database.close()


@pytest.fixture
def settings() -> ApiSettings:
    """Settings with a fixed signing key."""
    return ApiSettings(jwt_secret=SecretStr(TEST_SECRET), ws_queue_size=64)


@pytest.fixture
def app(hub: HubService, settings: ApiSettings) -> FastAPI:
    """The API around the hub."""
    return create_app(hub, settings, health_extra=lambda: {"edge": {"cameras_online": 1}})


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process client with the app's lifespan running."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin_token(client: TestClient) -> str:
    """A token of the admin."""
    return login(client, "admin", ADMIN_PASSWORD)


@pytest.fixture
def operator_token(client: TestClient) -> str:
    """A token of an operator."""
    return login(client, "op1", OPERATOR_PASSWORD)


@pytest.fixture
def viewer_token(client: TestClient) -> str:
    """A token of a user who may read but not post events."""
    return login(client, "viewer", VIEWER_PASSWORD)
