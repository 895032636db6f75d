"""Pixel -> ground projection: calibrated homography, field-of-view fallback, geodesy helpers."""

import math

import numpy as np
import pytest

from hwarang.domain import Calibration, Camera, GeoPoint
from hwarang.geo import FovProjector, GeoError, GroundProjector, destination, haversine_m, projector_for
from hwarang.geo.calibration import fov_outline
from hwarang.geo.geodesy import EARTH_RADIUS_M, initial_bearing_deg

ORIGIN = GeoPoint(lat=37.5663, lon=126.9779)
IMAGE = (1280, 720)


def _geo(east: float, north: float) -> GeoPoint:
    """Ground truth independent of the code under test: small offsets on the sphere."""
    lat = ORIGIN.lat + math.degrees(north / EARTH_RADIUS_M)
    lon = ORIGIN.lon + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(ORIGIN.lat))))
    return GeoPoint(lat=lat, lon=lon)


def _true_homography() -> np.ndarray:
    """Ground (east, north) metres -> pixels for a pinhole 8 m up, 15 m south, looking north 20° down."""
    tilt = math.radians(20.0)
    x_cam = np.array([1.0, 0.0, 0.0])
    z_cam = np.array([0.0, math.cos(tilt), -math.sin(tilt)])
    y_cam = np.cross(z_cam, x_cam)
    rotation = np.vstack([x_cam, y_cam, z_cam])
    t = -rotation @ np.array([10.0, -15.0, 8.0])
    k = np.array([[800.0, 0.0, 640.0], [0.0, 800.0, 360.0], [0.0, 0.0, 1.0]])
    homography: np.ndarray = k @ np.column_stack([rotation[:, 0], rotation[:, 1], t])
    return homography


def _pixel(h: np.ndarray, east: float, north: float) -> tuple[float, float]:
    u, v, w = h @ np.array([east, north, 1.0])
    return float(u / w), float(v / w)


def _camera(calibration: Calibration | None = None, heading: float = 90.0) -> Camera:
    return Camera(
        id="cam-1",
        center_id="seoul-jung",
        name="test",
        position=ORIGIN,
        heading_deg=heading,
        fov_deg=60.0,
        range_m=80.0,
        calibration=calibration,
        sido_code="11",
        sigungu_code="11140",
    )


def _calibration(ground: list[tuple[float, float]]) -> Calibration:
    h = _true_homography()
    return Calibration(
        image_points=tuple(_pixel(h, e, n) for e, n in ground),
        geo_points=tuple(_geo(e, n) for e, n in ground),
    )


CAL_GROUND = [(0.0, 5.0), (20.0, 5.0), (20.0, 40.0), (0.0, 40.0), (10.0, 20.0), (3.0, 30.0)]


def test_geodesy_round_trip() -> None:
    far = destination(ORIGIN, 47.0, 1234.5)
    assert haversine_m(ORIGIN, far) == pytest.approx(1234.5, abs=1e-6)
    assert initial_bearing_deg(ORIGIN, far) == pytest.approx(47.0, abs=1e-6)
    assert haversine_m(ORIGIN, _geo(30.0, 40.0)) == pytest.approx(50.0, abs=0.01)
    with pytest.raises(GeoError):
        destination(ORIGIN, math.nan, 1.0)


def test_calibration_round_trip_within_half_a_metre() -> None:
    projector = GroundProjector.from_calibration(_calibration(CAL_GROUND))
    assert projector.rms_error_m < 0.01
    h = _true_homography()
    for east, north in [(5.0, 10.0), (15.0, 25.0), (-5.0, 50.0), (25.0, 8.0), (10.0, 60.0)]:
        found = projector.project(*_pixel(h, east, north))
        assert haversine_m(found, _geo(east, north)) < 0.5


def test_calibration_with_exactly_four_points() -> None:
    projector = GroundProjector.from_calibration(_calibration(CAL_GROUND[:4]))
    found = projector.project(*_pixel(_true_homography(), 12.0, 18.0))
    assert haversine_m(found, _geo(12.0, 18.0)) < 0.5


def test_pixel_above_horizon_is_refused() -> None:
    calibration = _calibration(CAL_GROUND)
    projector = GroundProjector.from_calibration(calibration)
    with pytest.raises(GeoError, match="horizon"):
        projector.project(640.0, 0.0)  # sky: the camera looks 20° down, the horizon is near row 69
    project = projector_for(_camera(calibration), IMAGE)
    assert project(640.0, 0.0) is None
    inside = project(*_pixel(_true_homography(), 10.0, 20.0))
    assert inside is not None and haversine_m(inside, _geo(10.0, 20.0)) < 0.5


def test_collinear_geo_points_raise() -> None:
    line = Calibration(
        image_points=((100.0, 500.0), (300.0, 400.0), (600.0, 300.0), (900.0, 600.0)),
        geo_points=tuple(_geo(float(d), float(d) * 2.0) for d in (0, 10, 20, 30)),
    )
    with pytest.raises(GeoError, match="collinear"):
        GroundProjector.from_calibration(line)
    with pytest.raises(GeoError, match="cam-1: degenerate calibration"):
        projector_for(_camera(line), IMAGE)


def test_collinear_image_points_raise() -> None:
    calibration = Calibration(
        image_points=((100.0, 100.0), (200.0, 200.0), (300.0, 300.0), (400.0, 400.0)),
        geo_points=tuple(_geo(e, n) for e, n in CAL_GROUND[:4]),
    )
    with pytest.raises(GeoError, match="image points are collinear"):
        GroundProjector.from_calibration(calibration)


def test_three_of_four_collinear_raise() -> None:
    calibration = Calibration(
        image_points=((100.0, 600.0), (400.0, 600.0), (700.0, 600.0), (400.0, 300.0)),
        geo_points=tuple(_geo(e, n) for e, n in CAL_GROUND[:4]),
    )
    with pytest.raises(GeoError, match="degenerate calibration"):
        GroundProjector.from_calibration(calibration)


def test_duplicate_points_raise() -> None:
    calibration = Calibration(
        image_points=((100.0, 600.0), (100.0, 600.0), (700.0, 500.0), (400.0, 300.0)),
        geo_points=tuple(_geo(e, n) for e, n in CAL_GROUND[:4]),
    )
    with pytest.raises(GeoError, match="duplicate image points #1 and #2"):
        GroundProjector.from_calibration(calibration)


def test_fov_bottom_centre_is_near_the_camera_along_the_heading() -> None:
    fov = FovProjector(_camera(heading=90.0), IMAGE)
    near = fov.project(640.0, 720.0)
    assert haversine_m(ORIGIN, near) == pytest.approx(8.0, rel=1e-6)  # near_m = 10 % of range_m
    assert initial_bearing_deg(ORIGIN, near) == pytest.approx(90.0, abs=0.01)


def test_fov_centre_column_follows_the_heading_and_rows_go_out_to_range() -> None:
    fov = FovProjector(_camera(heading=300.0), IMAGE)
    distances = []
    for row in (700.0, 600.0, 500.0, 400.0, 300.0):
        point = fov.project(640.0, row)
        assert initial_bearing_deg(ORIGIN, point) == pytest.approx(300.0, abs=0.01)
        distances.append(haversine_m(ORIGIN, point))
    assert distances == sorted(distances) and distances[0] > 8.0
    assert haversine_m(ORIGIN, fov.project(640.0, 10.0)) == pytest.approx(80.0, rel=1e-6)  # above the horizon
    assert fov.bearing_deg(0.0) == pytest.approx(270.0)
    assert fov.bearing_deg(1280.0) == pytest.approx(330.0)
    assert fov.bearing_deg(320.0) < 300.0 < fov.bearing_deg(960.0)


def test_fov_rejects_bad_settings() -> None:
    with pytest.raises(GeoError, match="image size"):
        FovProjector(_camera(), (0, 720))
    with pytest.raises(GeoError, match="near_m"):
        FovProjector(_camera(), IMAGE, near_m=100.0)


def test_projector_for_uncalibrated_uses_fov() -> None:
    project = projector_for(_camera(heading=180.0), IMAGE)
    point = project(640.0, 720.0)
    assert point is not None
    assert initial_bearing_deg(ORIGIN, point) == pytest.approx(180.0, abs=0.01)


def test_fov_outline_is_a_closed_sector() -> None:
    ring = fov_outline(_camera(heading=0.0))
    assert ring[0] == ring[-1] == ORIGIN
    arc = ring[1:-1]
    assert all(haversine_m(ORIGIN, p) == pytest.approx(80.0, rel=1e-9) for p in arc)
    assert initial_bearing_deg(ORIGIN, arc[0]) == pytest.approx(330.0, abs=1e-6)
    assert initial_bearing_deg(ORIGIN, arc[-1]) == pytest.approx(30.0, abs=1e-6)
