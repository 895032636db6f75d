"""Turning a camera's configuration into domain objects and a ready analytics pipeline."""

from collections.abc import Callable

from hwarang.domain import AdminLocation, Camera, Center, GeoPoint
from hwarang.edge.analytics.detectors import build_detector
from hwarang.edge.analytics.pipeline import CameraAnalytics
from hwarang.edge.analytics.rules import build_rule
from hwarang.edge.analytics.tracking import ObjectTracker
from hwarang.edge.config import CameraConfig, CenterConfig
from hwarang.edge.errors import EdgeError
from hwarang.edge.media import render_snapshot
from hwarang.geo.calibration import projector_for

RegionLookup = Callable[[float, float], AdminLocation | None]


def _codes(
    what: str, sido: str | None, sigungu: str | None, position: GeoPoint, lookup: RegionLookup
) -> tuple[str, str]:
    if sido is not None and sigungu is not None:
        return sido, sigungu
    found = lookup(position.lat, position.lon)
    if found is None or found.sigungu_code is None:
        raise EdgeError(
            f"{what}: position {position.lat:.5f},{position.lon:.5f} is not inside a Korean local "
            "government; "
            "set sido_code and sigungu_code explicitly"
        )
    return sido or found.sido_code, sigungu or found.sigungu_code


def build_center(config: CenterConfig, lookup: RegionLookup) -> Center:
    """The domain Center for a configured center (codes looked up from its position when omitted)."""
    position = config.position or (config.cameras[0].position if config.cameras else None)
    if position is None and (config.sido_code is None or config.sigungu_code is None):
        raise EdgeError(f"center {config.id}: give a position, a camera, or sido_code and sigungu_code")
    if position is None:
        sido, sigungu = config.sido_code or "", config.sigungu_code or ""
    else:
        sido, sigungu = _codes(f"center {config.id}", config.sido_code, config.sigungu_code, position, lookup)
    return Center(id=config.id, name=config.name, sido_code=sido, sigungu_code=sigungu, position=position)


def build_camera(config: CameraConfig, center: Center, lookup: RegionLookup) -> Camera:
    """The domain Camera for a configured camera."""
    sido, sigungu = _codes(
        f"camera {config.id}", config.sido_code, config.sigungu_code, config.position, lookup
    )
    return Camera(
        id=config.id,
        center_id=center.id,
        name=config.name,
        position=config.position,
        heading_deg=config.heading_deg,
        fov_deg=config.fov_deg,
        range_m=config.range_m,
        calibration=config.calibration,
        sido_code=sido,
        sigungu_code=sigungu,
    )


def build_analytics(
    camera: Camera, config: CameraConfig, fps: float, size: tuple[int, int]
) -> CameraAnalytics:
    """A fresh detector -> tracker -> rules pipeline for one camera stream."""
    return CameraAnalytics(
        camera,
        build_detector(config.detector),
        ObjectTracker(config.tracker, fps=fps),
        [build_rule(rule) for rule in config.rules],
        snapshot=render_snapshot,
        project=projector_for(camera, size),
    )
