"""Fusion on the real clip: the edge's events for one person crossing two overlapping zones are one incident.

``hwarang analyze`` runs the edge offline over the PETS 2009 clip with two zones that overlap in the
middle of the walkway, so a person walking along it enters both (two events, one track). All events
go into a SQLite hub with the default fusion settings, in batches as the ingest worker stores them.
"""

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.domain import Event, EventMessage, Incident
from hwarang.hub.evidence.store import EvidenceStore
from hwarang.hub.fusion.correlation import FusionConfig
from hwarang.hub.service import HubService
from hwarang.hub.store.db import Database
from tests.hub_support import FAST_HASHER

pytestmark = pytest.mark.integration

WEST = [[288, 200], [520, 200], [520, 380], [288, 380]]
EAST = [[440, 200], [672, 200], [672, 380], [440, 380]]  # overlaps WEST over x 440..520
START = "2026-01-01T12:00:00+0900"


@dataclass(frozen=True)
class Fused:
    events: list[Event]
    incident_of: dict[str, Incident]  # event id -> the incident it ended in


def _site(vtest_path: Path, data_dir: Path) -> dict[str, object]:
    camera = {
        "id": "icn-harbour-plaza-01",
        "name": "PETS 2009 clip",
        "position": {"lat": 37.4745, "lon": 126.6165},
        "heading_deg": 225,
        "fov_deg": 70,
        "range_m": 60,
        "source": {"type": "file", "path": str(vtest_path), "realtime": False},
        "detector": {"type": "motion"},  # the figures below were measured with the motion-only pipeline
        "rules": [
            {"type": "zone_intrusion", "name": "walkway-west", "polygon": WEST, "min_dwell_s": 0.5},
            {"type": "zone_intrusion", "name": "walkway-east", "polygon": EAST, "min_dwell_s": 0.5},
        ],
    }
    center = {"id": "incheon-junggu-cc", "name": "인천광역시 중구 통합관제센터", "cameras": [camera]}
    return {"site_name": "fusion-vtest", "hub": {"data_dir": str(data_dir)}, "edge": {"centers": [center]}}


def _analyze(vtest_path: Path, folder: Path) -> tuple[list[Event], EvidenceStore]:
    config = folder / "site.yaml"
    config.write_text(yaml.safe_dump(_site(vtest_path, folder / "hub"), allow_unicode=True), encoding="utf-8")
    out = folder / "events.jsonl"
    root = logging.getLogger()
    level = root.level
    try:
        args = ["analyze", str(vtest_path), "--config", str(config), "--out", str(out), "--start-time", START]
        result = CliRunner().invoke(app, args)
    finally:
        root.setLevel(level)
    assert result.exit_code == 0, result.output
    events = [Event.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return events, EvidenceStore(out.with_name(out.name + ".snapshots"))


def _ingest(events: list[Event], snapshots: EvidenceStore, folder: Path, config: FusionConfig) -> Fused:
    database = Database(f"sqlite:///{folder / 'hub.sqlite3'}")
    database.migrate()
    try:
        service = HubService(
            database, EvidenceStore(folder / "evidence"), password_hasher=FAST_HASHER, fusion=config
        )
        messages = []
        for event in events:
            assert event.snapshot is not None
            path = snapshots.path(event.snapshot.sha256)
            assert path is not None
            messages.append(EventMessage(event=event, snapshot_jpeg=path.read_bytes()))
        for start in range(0, len(messages), 16):  # batches, as the ingest worker stores them
            for result in service.ingest.batch(messages[start : start + 16]):
                assert not result.duplicate
        incidents = service.incidents.recent(limit=1000)
        assert sum(len(incident.event_ids) for incident in incidents) == len(events)
        return Fused(events, {str(e): incident for incident in incidents for e in incident.event_ids})
    finally:
        database.close()


@pytest.fixture(scope="module")
def analyzed(vtest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Event], EvidenceStore]:
    """One offline edge run over the whole clip with the two zones (about 10 s)."""
    return _analyze(vtest_path, tmp_path_factory.mktemp("fusion-vtest"))


@pytest.fixture(scope="module", params=[0.0, 0.3], ids=["plain", "appearance"])
def fused(
    request: pytest.FixtureRequest,
    analyzed: tuple[list[Event], EvidenceStore],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fused]:
    """The clip's events fused by a hub with the default settings (and with appearance on)."""
    events, snapshots = analyzed
    config = FusionConfig(appearance_weight=request.param)
    yield _ingest(events, snapshots, tmp_path_factory.mktemp("hub"), config)


def _by_track(events: list[Event]) -> dict[int, list[Event]]:
    tracks: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        tracks[event.track_id].append(event)
    return tracks


def test_the_edge_sees_people_cross_both_zones(analyzed: tuple[list[Event], EvidenceStore]) -> None:
    events, _ = analyzed
    assert len(events) >= 20
    crossing = [
        t
        for t, evs in _by_track(events).items()
        if {e.rule_name for e in evs} >= {"walkway-west", "walkway-east"}
    ]
    assert len(crossing) >= 5, "several people walk along the walkway through both zones"


def test_one_person_crossing_both_zones_is_one_incident(fused: Fused) -> None:
    crossing = {
        track: evs
        for track, evs in _by_track(fused.events).items()
        if {e.rule_name for e in evs} >= {"walkway-west", "walkway-east"}
    }
    track, evs = next(iter(sorted(crossing.items())))
    assert len(evs) >= 2 and len({e.rule_name for e in evs}) >= 2
    incidents = {fused.incident_of[str(e.id)].id for e in evs}
    assert len(incidents) == 1, f"track {track}: {len(evs)} events in {len(incidents)} incidents"
    for track, evs in crossing.items():  # and so for every person who crossed both
        assert len({fused.incident_of[str(e.id)].id for e in evs}) == 1, f"track {track} split"


def test_different_people_far_apart_in_time_are_not_one_incident(fused: Fused) -> None:
    first = min(fused.events, key=lambda e: e.occurred_at)
    last = max((e for e in fused.events if e.track_id != first.track_id), key=lambda e: e.occurred_at)
    assert (last.occurred_at - first.occurred_at).total_seconds() > FusionConfig().window_s
    assert fused.incident_of[str(first.id)].id != fused.incident_of[str(last.id)].id
    incidents = {incident.id for incident in fused.incident_of.values()}
    assert 2 <= len(incidents) < len(fused.events), "fusion groups events, but not all into one"
