"""Exercise test fixtures: a real hub on SQLite with a settable workflow clock, and scenario text."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from hwarang.domain import Agency, AgencyKind
from hwarang.exercise.hubclock import ManualClock
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.unit.exercise.exercise_support import START

AGENCIES = (
    Agency(code="icn-jung", name="인천 중구", kind=AgencyKind.LOCAL_GOVERNMENT, jurisdiction_code="28110"),
    Agency(code="police-28", name="인천경찰청", kind=AgencyKind.POLICE, jurisdiction_code="28"),
    Agency(code="army-17", name="17사단", kind=AgencyKind.MILITARY),
    Agency(code="cg-28", name="인천해양경찰", kind=AgencyKind.COAST_GUARD, jurisdiction_code="28"),
)


@pytest.fixture
def clock() -> ManualClock:
    """The workflow's clock, at the exercise start."""
    return ManualClock(START)


@pytest.fixture
def hub(tmp_path: Path, clock: ManualClock) -> Iterator[HubService]:
    """A migrated hub whose workflow stamps rows with ``clock``, with a few agencies."""
    database = Database(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    database.migrate()
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    service = HubService(
        database, EvidenceStore(tmp_path / "evidence"), password_hasher=hasher, clock=clock.now
    )
    service.identity.agencies.upsert(AGENCIES)
    yield service
    database.close()
