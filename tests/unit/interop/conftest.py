"""Interop API fixtures: the real HubService on a temporary SQLite database and a TestClient.

The hub and API are imported inside the fixtures, so the format tests need neither.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr

from hwarang.domain import Agency, AgencyKind, Camera, GeoPoint, Role, User

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from hwarang.hub.service import HubService

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORDS = {"admin": "admin-password-123", "op1": "operator-password-456", "viewer": "viewer-password-789"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator["HubService"]:
    """A migrated hub with users admin (admin), op1 (operator) and viewer (evaluator)."""
    from hwarang.hub.evidence.store import EvidenceStore
    from hwarang.hub.service import HubService
    from hwarang.hub.store.db import Database

    database = Database(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    database.migrate()
    service = HubService(database, EvidenceStore(tmp_path / "evidence"), password_hasher=FAST_HASHER)
    service.identity.ensure_admin(PASSWORDS["admin"])
    # op1 and viewer work for a registered local government (need-to-know: hub/sharing/policy.py).
    agency = Agency(
        code="seoul-jung", name="서울 중구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code="11140"
    )
    service.identity.agencies.upsert([agency])
    for username, role in (("op1", Role.OPERATOR), ("viewer", Role.EVALUATOR)):
        user = User(
            username=username,
            display_name=username,
            agency_code="seoul-jung",
            jurisdiction_code="11140",
            roles=(role,),
        )
        service.identity.users.create(user, PASSWORDS[username])
    # The vendor's camera is one of the center's (detections only from registered cameras).
    service.cameras.upsert(
        Camera(
            id="cam-7",
            center_id="seoul-jung",
            name="Vendor camera",
            position=GeoPoint(lat=37.5636, lon=126.9976),
            sido_code="11",
            sigungu_code="11140",
        )
    )
    yield service
    database.close()


@pytest.fixture
def client(hub: "HubService") -> Iterator["TestClient"]:
    """An in-process client of the whole API, lifespan running."""
    from fastapi.testclient import TestClient

    from hwarang.api.app import create_app
    from hwarang.api.settings import ApiSettings

    settings = ApiSettings(jwt_secret=SecretStr("interop-test-signing-key-" + "k" * 32))
    with TestClient(create_app(hub, settings)) as test_client:
        yield test_client


def _token(client: "TestClient", username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORDS[username]})
    if response.status_code != 200:
        raise AssertionError(f"login of {username} failed: {response.status_code} {response.text}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def operator(client: "TestClient") -> dict[str, str]:
    """Authorization header of an operator."""
    return _token(client, "op1")


@pytest.fixture
def viewer(client: "TestClient") -> dict[str, str]:
    """Authorization header of a user who may read but not post."""
    return _token(client, "viewer")
