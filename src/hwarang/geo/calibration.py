"""Camera pixels to map positions: a ground-plane homography, or a field-of-view fallback.

* :class:`GroundProjector` fits a homography from image pixels to east/north metres on a tangent
  plane at the centroid of the calibration's geo points (direct linear transform with Hartley
  normalisation, least squares over all pairs), then converts metres to lat/lon.
* :class:`FovProjector` needs no calibration; see its docstring for the model.
* :func:`projector_for` picks one for a camera.

Calibration image points are in the pixel coordinates of the analysed stream.
"""

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from hwarang.domain import Calibration, Camera, GeoPoint
from hwarang.geo.errors import GeoError
from hwarang.geo.geodesy import TangentPlane, destination, haversine_m, initial_bearing_deg

__all__ = [
    "FovProjector",
    "GroundProjector",
    "destination",
    "haversine_m",
    "initial_bearing_deg",
    "projector_for",
]

Projector = Callable[[float, float], GeoPoint | None]
FloatArray = npt.NDArray[np.float64]

_COLLINEAR_RATIO = 1e-3
_RANK_RATIO = 1e-9


def _normaliser(points: FloatArray) -> FloatArray:
    """Similarity moving the points' centroid to 0 and their mean distance to sqrt(2)."""
    centroid = points.mean(axis=0)
    spread = float(np.mean(np.linalg.norm(points - centroid, axis=1)))
    scale = math.sqrt(2.0) / spread
    return np.array([[scale, 0.0, -scale * centroid[0]], [0.0, scale, -scale * centroid[1]], [0.0, 0.0, 1.0]])


def _apply(matrix: FloatArray, points: FloatArray) -> FloatArray:
    homogeneous = np.column_stack([points, np.ones(len(points))]) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:3]


def _check_spread(points: FloatArray, what: str, min_separation: float) -> None:
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            if float(np.linalg.norm(points[i] - points[j])) < min_separation:
                raise GeoError(
                    f"degenerate calibration: duplicate {what} #{i + 1} and #{j + 1} ({points[i]})"
                )
    singular = np.linalg.svd(points - points.mean(axis=0), compute_uv=False)
    if singular[0] == 0.0 or singular[1] / singular[0] < _COLLINEAR_RATIO:
        raise GeoError(f"degenerate calibration: the {what} are collinear (they must span an area)")


def fit_homography(source: FloatArray, target: FloatArray) -> FloatArray:
    """Least-squares 3x3 homography mapping ``source`` (n x 2) onto ``target``; GeoError if degenerate."""
    t_src, t_dst = _normaliser(source), _normaliser(target)
    src, dst = _apply(t_src, source), _apply(t_dst, target)
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([-x, -y, -1.0, 0.0, 0.0, 0.0, u * x, u * y, u])
        rows.append([0.0, 0.0, 0.0, -x, -y, -1.0, v * x, v * y, v])
    _, singular, vt = np.linalg.svd(np.asarray(rows))
    if len(singular) >= 8 and singular[7] / singular[0] < _RANK_RATIO:
        raise GeoError("degenerate calibration: no unique homography (are three of four points collinear?)")
    normalised = vt[-1].reshape(3, 3)
    homography: FloatArray = np.linalg.inv(t_dst) @ normalised @ t_src
    if abs(float(np.linalg.det(homography))) < 1e-15 * float(np.abs(homography).max()) ** 3:
        raise GeoError("degenerate calibration: the fitted homography is singular")
    return homography / float(np.abs(homography).max())


class GroundProjector:
    """Image pixel -> ground position through a homography onto a local tangent plane."""

    def __init__(
        self, homography: FloatArray, plane: TangentPlane, *, max_distance_m: float = 5000.0
    ) -> None:
        self.homography = homography
        self.plane = plane
        self.max_distance_m = max_distance_m
        self.rms_error_m = 0.0
        self._sign = 1.0

    @classmethod
    def from_calibration(
        cls, calibration: Calibration, *, max_distance_m: float = 5000.0
    ) -> "GroundProjector":
        """Fit the calibration's point pairs; GeoError for duplicate, collinear or folded points."""
        image = np.asarray(calibration.image_points, dtype=np.float64)
        lat0 = sum(p.lat for p in calibration.geo_points) / len(calibration.geo_points)
        lon0 = sum(p.lon for p in calibration.geo_points) / len(calibration.geo_points)
        plane = TangentPlane(GeoPoint(lat=lat0, lon=lon0))
        ground = np.asarray([plane.to_local(p) for p in calibration.geo_points], dtype=np.float64)
        if not np.all(np.isfinite(image)):
            raise GeoError("calibration image points must be finite numbers")
        _check_spread(image, "image points", 1e-6)
        _check_spread(ground, "geo points", 0.01)
        homography = fit_homography(image, ground)
        w = np.column_stack([image, np.ones(len(image))]) @ homography[2]
        if not (np.all(w > 0) or np.all(w < 0)):
            raise GeoError(
                "degenerate calibration: the points lie on both sides of the horizon; check that each "
                "image point is paired with its own geo point"
            )
        projector = cls(homography, plane, max_distance_m=max_distance_m)
        projector._sign = 1.0 if w[0] > 0 else -1.0
        residual = _apply(homography, image) - ground
        projector.rms_error_m = float(np.sqrt(np.mean(np.sum(residual**2, axis=1))))
        return projector

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        """East/north metres of the pixel's ground point from the calibration centroid."""
        east, north, w = self.homography @ np.array([x, y, 1.0])
        if not math.isfinite(w) or w * self._sign <= 1e-12 * float(np.abs(self.homography[2]).max()):
            raise GeoError(f"pixel ({x:.1f}, {y:.1f}) is at or above the horizon of the calibrated ground")
        return float(east / w), float(north / w)

    def project(self, x: float, y: float) -> GeoPoint:
        """Ground position of pixel (x, y); GeoError beyond the horizon or ``max_distance_m``."""
        east, north = self.to_local(x, y)
        if math.hypot(east, north) > self.max_distance_m:
            raise GeoError(
                f"pixel ({x:.1f}, {y:.1f}) maps {math.hypot(east, north):.0f} m from the calibrated area "
                f"(limit {self.max_distance_m:.0f} m)"
            )
        return self.plane.to_geo(east, north)


class FovProjector:
    """Fallback without calibration: a pixel's bearing from its column, its distance from its row.

    Model (flat ground, camera at ``camera.position`` looking along ``heading_deg``):

    * column: a pinhole with horizontal field of view ``fov_deg``; the centre column looks along
      the heading, the left/right edges at heading -/+ fov/2 (equal-angle spacing for fov >= 170°).
    * row: the bottom edge sees the ground ``near_m`` away, the horizon row
      (``horizon_fraction`` of the height from the top) sees it ``range_m`` away; in between the
      inverse distance varies linearly with the row, as for a tilted pinhole over flat ground.
      Rows above the horizon row are placed at ``range_m``; pixels outside the image are clamped.
    """

    def __init__(
        self,
        camera: Camera,
        image_size: tuple[int, int],
        *,
        near_m: float | None = None,
        horizon_fraction: float = 0.35,
    ) -> None:
        width, height = image_size
        if width <= 0 or height <= 0:
            raise GeoError(f"camera {camera.id}: image size must be positive, got {width}x{height}")
        if not 0.0 <= horizon_fraction < 1.0:
            raise GeoError(f"camera {camera.id}: horizon_fraction must be in [0, 1), got {horizon_fraction}")
        near = camera.range_m * 0.1 if near_m is None else near_m
        if not 0.0 < near <= camera.range_m:
            raise GeoError(f"camera {camera.id}: near_m must be in (0, range_m={camera.range_m}], got {near}")
        self.camera = camera
        self.width, self.height = float(width), float(height)
        self.near_m = near
        self.horizon_row = horizon_fraction * height

    def bearing_deg(self, x: float) -> float:
        """Bearing of image column ``x``, degrees from north."""
        u = min(max(x, 0.0), self.width) / self.width - 0.5
        fov = self.camera.fov_deg
        if fov < 170.0:
            offset = math.degrees(math.atan(2.0 * u * math.tan(math.radians(fov / 2.0))))
        else:
            offset = u * fov
        return (self.camera.heading_deg + offset) % 360.0

    def distance_m(self, y: float) -> float:
        """Ground distance seen at image row ``y``, metres."""
        row = min(max(y, 0.0), self.height)
        if row <= self.horizon_row:
            return self.camera.range_m
        t = (self.height - row) / (self.height - self.horizon_row)
        return 1.0 / ((1.0 - t) / self.near_m + t / self.camera.range_m)

    def project(self, x: float, y: float) -> GeoPoint:
        """Ground position of pixel (x, y) under the field-of-view model."""
        return destination(self.camera.position, self.bearing_deg(x), self.distance_m(y))


def projector_for(camera: Camera, image_size: tuple[int, int]) -> Projector:
    """Pixel -> position for a camera: its calibration when present, else the field-of-view model.

    ``image_size`` is (width, height). The returned function gives None for pixels a calibrated
    camera cannot place (above the horizon, too far away); a bad calibration raises GeoError here.
    """
    if camera.calibration is None:
        return FovProjector(camera, image_size).project
    try:
        ground = GroundProjector.from_calibration(camera.calibration)
    except GeoError as exc:
        raise GeoError(f"camera {camera.id}: {exc}") from exc

    def project(x: float, y: float) -> GeoPoint | None:
        try:
            return ground.project(x, y)
        except GeoError:
            return None

    return project


def fov_outline(camera: Camera, *, step_deg: float = 5.0) -> Sequence[GeoPoint]:
    """Closed ring (first point repeated) of the camera's view sector out to ``range_m``."""
    steps = max(2, math.ceil(camera.fov_deg / step_deg))
    start = camera.heading_deg - camera.fov_deg / 2.0
    arc = [
        destination(camera.position, start + camera.fov_deg * i / steps, camera.range_m)
        for i in range(steps + 1)
    ]
    if camera.fov_deg >= 360.0:
        return [*arc[:-1], arc[0]]
    return [camera.position, *arc, camera.position]
