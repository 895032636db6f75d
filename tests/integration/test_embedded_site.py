"""The embedded site (hub, in-memory bus, edge in one process) on the demo config and the real clip."""

import asyncio
import dataclasses
import hashlib
import time
from pathlib import Path

import pytest

from hwarang.config import AppConfig, CameraConfig, load_config, parse_config
from hwarang.domain import Incident
from hwarang.edge.errors import EdgeError
from hwarang.edge.health import CameraHealth, CameraState
from hwarang.edge.sources.file import FileSourceConfig
from hwarang.edge.sources.synthetic import SyntheticSourceConfig
from hwarang.hub.fusion.worker import IngestStats
from hwarang.runtime.demo_setup import prepare_demo_config
from hwarang.runtime.embedded import run_site

pytestmark = pytest.mark.integration

VTEST_CAMERA = "icn-harbour-plaza-01"
SYNTHETIC_CAMERAS = ("gos-coast-fence-01", "gos-coast-fence-02")
MISSING_CAMERA = "icn-missing-01"
DEADLINE_S = 20.0
SHUTDOWN_LIMIT_S = 10.0


def _with_cameras(config: AppConfig, cameras_by_center: dict[str, list[CameraConfig]]) -> AppConfig:
    centers = [
        center.model_copy(update={"cameras": cameras_by_center[center.id]}) for center in config.edge.centers
    ]
    return config.model_copy(update={"edge": config.edge.model_copy(update={"centers": centers})})


def _site_config(data_dir: Path, video: Path, missing_video: Path) -> AppConfig:
    """The demo config: the clip at 4x, the synthetic scenes at 2x, plus a camera whose file is missing."""
    config = load_config(None)
    cameras: dict[str, list[CameraConfig]] = {}
    for center in config.edge.centers:
        cameras[center.id] = []
        for camera in center.cameras:
            source = camera.source
            if isinstance(source, FileSourceConfig):
                source = source.model_copy(update={"path": video, "realtime": True, "speed": 4.0})
            elif isinstance(source, SyntheticSourceConfig):
                source = source.model_copy(update={"speed": 2.0})
            cameras[center.id].append(camera.model_copy(update={"source": source}))
    incheon = next(iter(cameras.values()))
    template = incheon[0]
    assert template.id == VTEST_CAMERA
    missing_source = FileSourceConfig(type="file", path=missing_video, realtime=True, loop=True)
    incheon.append(
        template.model_copy(
            update={"id": MISSING_CAMERA, "name": "missing clip", "enabled": True, "source": missing_source}
        )
    )
    config = _with_cameras(config, cameras)
    return config.model_copy(update={"hub": config.hub.model_copy(update={"data_dir": data_dir})})


@dataclasses.dataclass(frozen=True)
class SiteRun:
    """What the site showed once every camera had raised an incident (or at the deadline)."""

    waited_s: float
    shutdown_s: float
    incidents: list[Incident]
    snapshot_files: dict[str, bytes | None]
    health: dict[str, CameraHealth]
    ingest: IngestStats
    published: int


def _ready(incidents: list[Incident], health: dict[str, CameraHealth]) -> bool:
    cameras = {incident.camera_id for incident in incidents}
    missing = health.get(MISSING_CAMERA)
    retried = missing is not None and missing.reconnects >= 1
    return {VTEST_CAMERA, *SYNTHETIC_CAMERAS} <= cameras and retried


async def _run(config: AppConfig) -> SiteRun:
    start = time.monotonic()
    async with run_site(config, admin_password="site-test-password") as site:
        while True:
            incidents = await asyncio.to_thread(site.service.incidents.recent, limit=1000)
            health = {h.camera_id: h for h in site.edge.health()}
            waited = time.monotonic() - start
            if _ready(incidents, health) or waited > DEADLINE_S:
                break
            await asyncio.sleep(0.25)
        snapshots: dict[str, bytes | None] = {}
        for incident in incidents:
            if incident.snapshot_sha256 is not None:
                path = site.service.evidence.path(incident.snapshot_sha256)
                snapshots[incident.snapshot_sha256] = None if path is None else path.read_bytes()
        ingest = dataclasses.replace(site.ingest.stats)
        # A publish is counted once its ack is back in the camera thread, which can be just after the
        # ingest loop received it: wait (bounded) for the publisher's count to catch up.
        settle = time.monotonic() + 2.0
        while True:
            if site.publisher.published >= ingest.received or time.monotonic() > settle:
                break
            await asyncio.sleep(0.05)
        published = site.publisher.published
        closing = time.monotonic()
    return SiteRun(waited, time.monotonic() - closing, incidents, snapshots, health, ingest, published)


@pytest.fixture(scope="module")
def site_run(vtest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SiteRun:
    root = tmp_path_factory.mktemp("site")
    config = _site_config(root / "hub", vtest_path, root / "media" / "gone.avi")
    return asyncio.run(_run(config))


def test_incidents_from_the_clip_and_both_synthetic_cameras_within_deadline(site_run: SiteRun) -> None:
    cameras = {incident.camera_id for incident in site_run.incidents}
    assert {VTEST_CAMERA, *SYNTHETIC_CAMERAS} <= cameras, f"after {site_run.waited_s:.1f} s: {cameras}"
    assert site_run.waited_s <= DEADLINE_S
    assert MISSING_CAMERA not in cameras


def test_incidents_are_located_where_their_cameras_are(site_run: SiteRun) -> None:
    by_camera = {incident.camera_id: incident for incident in site_run.incidents}
    assert (by_camera[VTEST_CAMERA].sido_code, by_camera[VTEST_CAMERA].sigungu_code) == ("28", "28110")
    assert by_camera[VTEST_CAMERA].zone_id == 2
    for camera_id in SYNTHETIC_CAMERAS:
        assert by_camera[camera_id].sido_code == "51"
        assert by_camera[camera_id].zone_id == 3


def test_every_incident_snapshot_is_held_and_matches_its_hash(site_run: SiteRun) -> None:
    assert site_run.incidents
    assert all(incident.snapshot_sha256 is not None for incident in site_run.incidents)
    for sha256, data in site_run.snapshot_files.items():
        assert data is not None, f"hub does not hold snapshot {sha256}"
        assert hashlib.sha256(data).hexdigest() == sha256


def test_running_cameras_process_frames_without_analytics_errors(site_run: SiteRun) -> None:
    for camera_id in (VTEST_CAMERA, *SYNTHETIC_CAMERAS):
        health = site_run.health[camera_id]
        assert health.state is CameraState.RUNNING, health
        assert health.frames_processed > 0, health
        assert health.analytics_errors == 0, health
        assert health.decode_errors == 0, health
        assert health.events > 0, health
        assert health.last_error is None, health


def test_ingest_saw_no_invalid_or_failed_messages(site_run: SiteRun) -> None:
    stats = site_run.ingest
    assert stats.invalid == 0
    assert stats.failed == 0
    assert stats.ingested >= len(site_run.incidents) > 0
    assert stats.received <= site_run.published


def test_missing_file_camera_is_retried_while_the_others_run(site_run: SiteRun) -> None:
    missing = site_run.health[MISSING_CAMERA]
    assert missing.state is CameraState.RETRYING
    assert missing.reconnects >= 1
    assert missing.frames_in == 0
    assert missing.last_error is not None
    assert "video file not found" in missing.last_error
    assert "gone.avi" in missing.last_error
    assert all(site_run.health[c].frames_processed > 0 for c in (VTEST_CAMERA, *SYNTHETIC_CAMERAS))


def test_site_stops_promptly(site_run: SiteRun) -> None:
    assert site_run.shutdown_s < SHUTDOWN_LIMIT_S


AT_SEA_SITE = """
hub:
  data_dir: {data_dir}
edge:
  centers:
    - id: offshore-cc
      name: offshore
      sido_code: "28"
      sigungu_code: "28110"
      cameras:
        - id: at-sea-01
          name: buoy
          position: {{lat: 36.0, lon: 124.0}}
          source: {{type: synthetic}}
          detector: {{type: motion}}
"""


async def test_run_site_releases_the_hub_when_the_edge_cannot_start(tmp_path: Path) -> None:
    config = parse_config(AT_SEA_SITE.format(data_dir=tmp_path / "hub"), source="at-sea.yaml")

    with pytest.raises(EdgeError, match=r"camera at-sea-01: position 36\.00000,124\.00000 is not inside"):
        async with run_site(config):
            pytest.fail("the site must not start")

    left = [task for task in asyncio.all_tasks() if task.get_name() == "hub-ingest"]
    assert left == [], "the ingest task is stopped when start-up fails"


def _file_camera(config: AppConfig) -> CameraConfig:
    return next(
        cam
        for center in config.edge.centers
        for cam in center.cameras
        if isinstance(cam.source, FileSourceConfig)
    )


def _point_file_camera_at(config: AppConfig, video: Path) -> AppConfig:
    file_camera = _file_camera(config)
    source = file_camera.source.model_copy(update={"path": video})
    replaced = {
        center.id: [
            cam.model_copy(update={"source": source}) if cam.id == file_camera.id else cam
            for cam in center.cameras
        ]
        for center in config.edge.centers
    }
    return _with_cameras(config, replaced)


def test_prepare_demo_config_names_a_file_camera_whose_video_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "media" / "vtest.avi"
    config = _point_file_camera_at(load_config(None), missing)

    prepared, notes = prepare_demo_config(config, host=None, port=9123, data_dir=tmp_path / "hub")

    file_camera = _file_camera(prepared)
    assert file_camera.enabled is True, "it runs, and shows as down with the reason"
    others = [cam for c in prepared.edge.centers for cam in c.cameras if cam.id != file_camera.id]
    assert len(others) == 2
    assert all(cam.enabled for cam in others)
    assert len(notes) == 1, "the synthetic cameras run motion-only by choice: no model note"
    assert str(missing) in notes[0]
    assert "make media" in notes[0]
    assert file_camera.id in notes[0] and "down" in notes[0]
    assert (prepared.api.host, prepared.api.port) == (config.api.host, 9123)
    assert prepared.hub.data_dir == tmp_path / "hub"
    assert _file_camera(config).enabled is True, "the caller's config is not changed"


def test_prepare_demo_config_keeps_a_file_camera_whose_video_exists(
    vtest_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _point_file_camera_at(load_config(None), vtest_path)
    monkeypatch.setenv("HWARANG_MODEL_STORE", str(tmp_path / "empty-store"))

    prepared, notes = prepare_demo_config(config, host=None, port=None, data_dir=None)

    assert len(notes) == 1, "only the missing-model note"
    assert notes[0].startswith(
        "WARNING camera icn-harbour-plaza-01: model 'nanodet' is not in the model store"
    )
    assert "make models" in notes[0] and "MOTION-ONLY" in notes[0]
    assert _file_camera(prepared).enabled is True
    assert prepared.hub.data_dir == config.hub.data_dir
    assert prepared.api == config.api


def test_prepare_demo_config_says_when_no_camera_can_run(tmp_path: Path) -> None:
    config = _point_file_camera_at(load_config(None), tmp_path / "absent.avi")
    only_file = _with_cameras(
        config,
        {
            c.id: [cam for cam in c.cameras if isinstance(cam.source, FileSourceConfig)]
            for c in config.edge.centers
        },
    )

    _prepared, notes = prepare_demo_config(only_file, host=None, port=None, data_dir=None)

    assert len(notes) == 2
    assert "no camera can run" in notes[1]
