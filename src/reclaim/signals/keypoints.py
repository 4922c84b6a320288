"""Local-feature keypoints: what geometric verification needs of an enrolled image, without its pixels.

Verifying that a candidate is a derivative (a crop, a repaint, a screenshot) means finding the same local
structures in both images and one geometric transform that maps them. The bank keeps no pixels (hash-only),
so enrolment stores the strongest SIFT keypoints of the image instead: position (in the original's pixels)
and the 128-byte descriptor, a few hundred of them. Query images are decoded anyway during ingest, so their
keypoints are computed only when a candidate needs verifying, and never stored.

Descriptors are local gradient histograms, not pixels; a sparse set of them cannot reproduce the picture,
but they are still derived from it, so they live under the same access rules as the other bank signals.

A value is the image's width and height (8 hex digits each) followed by one 264-hex-digit record per
keypoint: x and y (uint16, original pixels) and the SIFT descriptor (128 uint8).
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np
from PIL import Image

from reclaim.errors import InvalidSignal
from reclaim.model import MediaType, SignalValue
from reclaim.signals.base import Computed, Content, SignalType
from reclaim.signals.hexhash import canonical_records

# SIFT runs on a copy whose long side is at most this. Queries get a larger copy and more keypoints: the
# enrolled picture may fill only part of them (a screenshot), and they are computed for candidates only.
WORK_SIDE = 640
QUERY_WORK_SIDE = 1024
REFERENCE_KEYPOINTS = 500
# Enrolled keypoints are spread over a GRID x GRID grid (the strongest of each cell first), so a crop or a
# repaint that removes part of the picture still leaves its share of them.
GRID = 4
QUERY_KEYPOINTS = 1500
# Lower than OpenCV's 0.04: smooth pictures (gradients, soft shapes) otherwise yield a handful of keypoints.
CONTRAST = 0.01
HEADER_HEX = 16
# Fewer keypoints than this cannot support a verification: the entry is then treated as having none.
MIN_USEFUL = 16
RECORD_BYTES = 4 + 128
RECORD_HEX = 2 * RECORD_BYTES
MAX_KEYPOINTS = 4000


def _work_grey(image: Image.Image, side: int) -> tuple[np.ndarray, float]:
    """Greyscale working copy and the factor from its pixels back to the original's."""
    w, h = image.size
    f = min(1.0, side / max(w, h))
    grey = image.convert("L")
    if f < 1.0:
        grey = grey.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(grey, dtype=np.uint8), 1.0 / f


def _sift(grey: np.ndarray, n: int, spread: bool) -> tuple[np.ndarray, np.ndarray]:
    sift = cv2.SIFT_create(nfeatures=0 if spread else n, contrastThreshold=CONTRAST)  # type: ignore[attr-defined]
    kps, desc = sift.detectAndCompute(grey, None)
    if desc is None or not kps:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8)
    pts = np.array([k.pt for k in kps], dtype=np.float32)
    desc = np.clip(desc, 0, 255).astype(np.uint8)
    if spread and len(pts) > n:
        keep = _spread(pts, np.array([k.response for k in kps]), grey.shape, n)
        pts, desc = pts[keep], desc[keep]
    return pts, desc


def _spread(pts: np.ndarray, response: np.ndarray, shape: tuple[int, ...], n: int) -> np.ndarray:
    """Indices of n keypoints taken round-robin over the grid cells, the strongest of each cell first."""
    h, w = shape[:2]
    cx = np.minimum(pts[:, 0] * GRID // w, GRID - 1).astype(np.int64)
    cy = np.minimum(pts[:, 1] * GRID // h, GRID - 1).astype(np.int64)
    cell = cy * GRID + cx
    by_strength = np.lexsort((-response, cell))  # grouped by cell, strongest first within each
    first_of_cell = np.searchsorted(cell[by_strength], np.arange(GRID * GRID))
    rank = np.empty(len(pts), dtype=np.int64)
    rank[by_strength] = np.arange(len(pts)) - first_of_cell[cell[by_strength]]
    return np.lexsort((-response, rank))[:n]


def keypoints_of(
    image: Image.Image,
    n: int,
    original_size: tuple[int, int] | None = None,
    side: int = WORK_SIDE,
    spread: bool = False,
) -> str | None:
    """The keypoints value of an image, or None when it has no usable structure.

    `original_size` is the size before any draft (reduced) decoding: positions are recorded in its pixels.
    `spread`: take the keypoints evenly over the picture rather than the n strongest.
    """
    size = original_size or image.size
    grey, back = _work_grey(image, side)
    pts, desc = _sift(grey, n, spread)
    if len(pts) == 0:
        return None
    scale = np.array([size[0] / image.width, size[1] / image.height], dtype=np.float32)
    return encode(size, pts[:n] * back * scale, desc[:n])


def _mirror_permutation() -> np.ndarray:
    """SIFT descriptor of the mirror image: 4x4 cells x 8 orientation bins; mirroring reverses the cell rows
    (OpenCV's layout, in the keypoint's own frame) and negates the orientation bins. Measured: 921 of the
    1000 keypoints of a mirrored photo match the permuted descriptors, against 104 unpermuted."""
    return np.array([((3 - r) * 4 + c) * 8 + (8 - b) % 8 for r in range(4) for c in range(4) for b in range(8)])


MIRROR = _mirror_permutation()


def mirrored(value: str) -> str:
    """The keypoints of the mirror image, without running SIFT again: x -> width - x, descriptors permuted."""
    (w, h), pts, desc = decode(value)
    pts = pts.copy()
    pts[:, 0] = w - 1 - pts[:, 0]
    return encode((w, h), pts, desc[:, MIRROR])


def encode(size: tuple[int, int], pts: np.ndarray, desc: np.ndarray) -> str:
    xy = np.clip(np.rint(pts), 0, 65535).astype(">u2")
    records = np.concatenate([xy.view(np.uint8).reshape(-1, 4), desc.astype(np.uint8)], axis=1)
    return f"{size[0]:08x}{size[1]:08x}" + records.tobytes().hex()


def decode(value: str) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """((width, height), (n, 2) float32 points, (n, 128) uint8 descriptors)."""
    size = (int(value[0:8], 16), int(value[8:16], 16))
    raw = np.frombuffer(bytes.fromhex(value[HEADER_HEX:]), dtype=np.uint8).reshape(-1, RECORD_BYTES)
    pts = raw[:, :4].copy().view(">u2").astype(np.float32).reshape(-1, 2)
    return size, pts, raw[:, 4:]


class KeypointsSignal(SignalType):
    """Computed at enrolment (`bank add`), on demand for candidates at ingest; never exchanged."""

    name = "keypoints"
    pytx_names: ClassVar[dict[MediaType, str]] = {}
    media_types = frozenset({"image"})
    # Compared by geometric verification (matching/verify.py), not by a distance threshold.
    default_threshold = 0.0
    approximate = False

    def compute(self, content: Content) -> Computed | None:
        if content.image is None or not content.options.keypoints:
            return None
        decoded = content.image
        size = (decoded.width, decoded.height)
        value = keypoints_of(decoded.image, REFERENCE_KEYPOINTS, original_size=size, spread=True)
        if value is None or (len(value) - HEADER_HEX) // RECORD_HEX < MIN_USEFUL:
            return None  # too little structure to verify: such entries match by SSCD's stricter rule alone
        return Computed(SignalValue(self.name, value))

    def validate(self, value: str) -> str:
        v = canonical_records(
            value,
            HEADER_HEX,
            RECORD_HEX,
            MAX_KEYPOINTS,
            "a keypoints value",
            f"a {HEADER_HEX}-hex-digit size and {RECORD_HEX} hex digits per keypoint",
        )
        if int(v[0:8], 16) == 0 or int(v[8:16], 16) == 0:
            raise InvalidSignal("a keypoints value must start with a non-zero width and height")
        return v

    def distance(self, a: str, b: str) -> float:
        """For display: 1 - the share of `a`'s keypoints with a distinctive match in `b` (no geometry; the
        decision uses matching/verify.py, which also demands one consistent transform)."""
        if a == b:
            return 0.0
        _, _, da = decode(a)
        _, _, db = decode(b)
        return 1.0 - len(ratio_matches(da, db)) / max(1, len(da))


def root_sift(desc: np.ndarray) -> np.ndarray:
    """RootSIFT (Hellinger kernel): L1-normalise and take the square root; matches more reliably than raw SIFT."""
    d = desc.astype(np.float32)
    d /= np.maximum(d.sum(axis=1, keepdims=True), 1e-7)
    return np.sqrt(d)


def ratio_matches(da: np.ndarray, db: np.ndarray, ratio: float = 0.8) -> list[tuple[int, int]]:
    """Pairs (i in a, j in b) whose nearest neighbour in b is clearly nearer than the second (Lowe's test)."""
    if len(da) == 0 or len(db) < 2:
        return []
    knn = cv2.BFMatcher(cv2.NORM_L2).knnMatch(root_sift(da), root_sift(db), k=2)
    return [(m.queryIdx, m.trainIdx) for m, n in (p for p in knn if len(p) == 2) if m.distance < ratio * n.distance]
