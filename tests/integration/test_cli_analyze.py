"""``hwarang analyze`` on the real PETS 2009 clip with the built-in demo configuration."""

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hwarang.cli import app
from hwarang.config import load_config
from hwarang.domain import Event
from hwarang.edge.analytics.rules import LineCrossingConfig, ZoneIntrusionConfig
from hwarang.edge.sources.file import FileSourceConfig
from hwarang.geo.regions import default_catalog
from hwarang.hub.evidence.store import EvidenceStore

pytestmark = pytest.mark.integration

VTEST_FRAMES = 795


@dataclass(frozen=True)
class AnalyzeRun:
    exit_code: int
    stdout: str
    stderr: str
    out: Path
    snapshots: Path
    events: list[Event]


@pytest.fixture(scope="module")
def run(vtest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyzeRun]:
    """One offline run over the whole clip (about 4 s), shared by the tests below."""
    out = tmp_path_factory.mktemp("analyze") / "ev.jsonl"
    root = logging.getLogger()
    level = root.level
    try:
        result = CliRunner().invoke(app, ["analyze", str(vtest_path), "--out", str(out)])
    finally:
        root.setLevel(level)
    lines = out.read_text(encoding="utf-8").splitlines() if out.is_file() else []
    events = [Event.model_validate_json(line) for line in lines]
    yield AnalyzeRun(
        result.exit_code, result.stdout, result.stderr, out, out.with_name("ev.jsonl.snapshots"), events
    )


def _demo_file_camera_rules() -> tuple[set[str], set[str]]:
    config = load_config(None)
    camera = next(
        cam
        for center in config.edge.centers
        for cam in center.cameras
        if isinstance(cam.source, FileSourceConfig)
    )
    zones = {rule.name for rule in camera.rules if isinstance(rule, ZoneIntrusionConfig)}
    lines = {rule.name for rule in camera.rules if isinstance(rule, LineCrossingConfig)}
    return zones, lines


def test_run_succeeds_and_reports_throughput(run: AnalyzeRun) -> None:
    assert run.exit_code == 0, run.stderr
    assert f"{VTEST_FRAMES} frames (768x576)" in run.stdout
    assert "frames/s" in run.stdout
    assert f"{len(run.events)} events -> {run.out}" in run.stdout
    assert "decode errors" not in run.stdout


def test_every_line_is_an_event_with_a_unique_id(run: AnalyzeRun) -> None:
    assert len(run.events) >= 10
    assert len({event.id for event in run.events}) == len(run.events)
    assert all(0 <= event.frame_index < VTEST_FRAMES for event in run.events)
    assert {event.camera_id for event in run.events} == {"icn-harbour-plaza-01"}


def test_both_the_zone_rule_and_the_tripwire_fire(run: AnalyzeRun) -> None:
    zones, lines = _demo_file_camera_rules()
    assert zones
    assert lines
    fired = {event.rule_name for event in run.events}
    assert fired & zones, f"no zone intrusion from {sorted(zones)}; fired: {sorted(fired)}"
    assert fired & lines, f"no line crossing from {sorted(lines)}; fired: {sorted(fired)}"
    crossings = [event for event in run.events if event.rule_name in lines]
    assert all(event.direction in ("in", "out") for event in crossings)


def test_every_snapshot_is_stored_under_its_sha256(run: AnalyzeRun) -> None:
    store = EvidenceStore(run.snapshots)
    refs = [event.snapshot for event in run.events]
    assert all(ref is not None for ref in refs), "every event carries a snapshot"
    hashes = {ref.sha256 for ref in refs if ref is not None}
    for sha256 in hashes:
        path = store.path(sha256)
        assert path is not None, f"snapshot {sha256} missing under {run.snapshots}"
        data = path.read_bytes()
        assert data[:3] == b"\xff\xd8\xff", "a JPEG"
        assert hashlib.sha256(data).hexdigest() == sha256
    stored = {p.stem for p in run.snapshots.rglob("*.jpg")}
    assert stored == hashes


def test_geo_points_lie_in_incheon_junggu(run: AnalyzeRun) -> None:
    lookup = default_catalog().lookup
    located = [event for event in run.events if event.geo is not None]
    assert len(located) == len(run.events)
    for event in located:
        assert event.geo is not None
        found = lookup(event.geo.lat, event.geo.lon)
        assert found is not None, f"event {event.id} at {event.geo} is outside Korea"
        assert (found.sido_name, found.sigungu_name) == ("인천광역시", "중구")
        assert (event.sido_code, event.sigungu_code) == (found.sido_code, found.sigungu_code)


def test_a_second_run_gives_the_same_event_ids(run: AnalyzeRun, vtest_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.jsonl"
    root = logging.getLogger()
    level = root.level
    try:
        result = CliRunner().invoke(app, ["analyze", str(vtest_path), "--out", str(out), "--no-clips"])
    finally:
        root.setLevel(level)
    assert result.exit_code == 0, result.output
    again = [Event.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e.id for e in again] == [e.id for e in run.events]
    assert [e.occurred_at for e in again] == [e.occurred_at for e in run.events]


def test_start_time_option_stamps_events_from_that_moment(vtest_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "stamped.jsonl"
    root = logging.getLogger()
    level = root.level
    try:
        result = CliRunner().invoke(
            app,
            [
                "analyze",
                str(vtest_path),
                "--out",
                str(out),
                "--no-clips",
                "--start-time",
                "2026-01-01T09:00:00+0900",
            ],
        )
    finally:
        root.setLevel(level)
    assert result.exit_code == 0, result.output
    events = [Event.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for event in events:
        offset_s = (event.occurred_at - start).total_seconds()
        assert offset_s == pytest.approx(event.frame_index / 10.0, abs=0.11)


def test_every_event_has_a_clip_that_plays_and_covers_it(run: AnalyzeRun, vtest_path: Path) -> None:
    """The issue #16 floor: a clip per event, decodable, pre + post long (shorter only at the file's ends)."""
    import av

    clips = EvidenceStore(run.out.with_name("ev.jsonl.clips"), suffix=".mp4")
    file_start = datetime.fromtimestamp(vtest_path.stat().st_mtime, tz=UTC)
    file_s = VTEST_FRAMES / 10.0
    pre_s, post_s = 5.0, 10.0
    assert run.events
    for event in run.events:
        clip = event.clip
        assert clip is not None, f"event {event.id} has no clip"
        path = clips.path(clip.sha256)
        assert path is not None, f"clip {clip.sha256} of event {event.id} not stored"
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == clip.sha256
        assert len(data) == clip.size
        assert data[4:8] == b"ftyp" and data.index(b"moov") < data.index(b"mdat"), "not fast-start"
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            times = [frame.time for frame in container.decode(stream) if frame.time is not None]
        assert len(times) >= 10
        decoded_s = times[-1] - times[0] + 0.1
        assert decoded_s == pytest.approx(clip.duration_s, abs=0.15)
        assert clip.start <= event.occurred_at <= clip.end
        at_s = (event.occurred_at - file_start).total_seconds()
        full = at_s >= pre_s + 0.5 and at_s + post_s <= file_s - 0.2
        if full:
            assert abs(clip.duration_s - (pre_s + post_s)) <= 1.0, (event.id, at_s, clip.duration_s)
        else:
            assert clip.duration_s <= pre_s + post_s + 1.0, (event.id, at_s, clip.duration_s)
    assert "clips ->" in run.stdout
