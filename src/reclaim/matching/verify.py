"""Geometric verification: is the query a derivative of the enrolled image, and which part of it survives?

Candidates come from embeddings and PDQ at generous thresholds; this confirms one by finding a single
homography (RANSAC) that maps many of the enrolled image's keypoints onto the query's. A crop, a caption bar,
a repaint of part of the picture or a screenshot of it inside a chat all keep such a mapping for the part
that survives; unrelated photos do not. The surviving region is the query's frame mapped back into the
original's pixel coordinates.

Local features alone produce false positives on flat or repetitive synthetic images, so the decision rule
(matching/decide.py, which sets MIN_INLIERS) never matches on verification alone: a candidate must also
come from SSCD or PDQ.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reclaim.signals.keypoints import decode, ratio_matches

MIN_RATIO_MATCHES = 8
# A plausible edit scales the picture between these factors (screenshots shrink, crops enlarge).
MIN_SCALE, MAX_SCALE = 0.05, 20.0


@dataclass(frozen=True, slots=True)
class Verification:
    inliers: int
    reference_keypoints: int
    # Part of the original (x, y, w, h, in its pixels) that the query shows.
    region: tuple[int, int, int, int]


def verify(reference: str, query: str) -> Verification | None:
    """Inliers and surviving region when one plausible homography maps the reference onto the query."""
    (rw, rh), rpts, rdesc = decode(reference)
    (qw, qh), qpts, qdesc = decode(query)
    pairs = ratio_matches(rdesc, qdesc)
    if len(pairs) < MIN_RATIO_MATCHES:
        return None
    src = rpts[[i for i, _ in pairs]].astype(np.float32).reshape(-1, 1, 2)
    dst = qpts[[j for _, j in pairs]].astype(np.float32).reshape(-1, 1, 2)
    tolerance = max(3.0, 0.01 * max(qw, qh))
    h, mask = cv2.findHomography(src, dst, cv2.RANSAC, tolerance, maxIters=2000, confidence=0.995)
    if h is None or mask is None:
        return None
    inliers = int(mask.sum())
    if not _plausible(h):
        return None
    return Verification(inliers, len(rpts), _region(h, (rw, rh), (qw, qh)))


def _plausible(h: np.ndarray) -> bool:
    """Orientation kept (mirror images are verified against a mirrored query) and a sane scale."""
    det = float(np.linalg.det(h[:2, :2]))
    if det <= 0:
        return False
    scale = det**0.5
    return MIN_SCALE <= scale <= MAX_SCALE and abs(float(h[2, 0])) < 0.01 and abs(float(h[2, 1])) < 0.01


def _region(h: np.ndarray, ref_size: tuple[int, int], query_size: tuple[int, int]) -> tuple[int, int, int, int]:
    rw, rh = ref_size
    qw, qh = query_size
    corners = np.array([[0, 0], [qw, 0], [qw, qh], [0, qh]], dtype=np.float32).reshape(-1, 1, 2)
    try:
        back = cv2.perspectiveTransform(corners, np.linalg.inv(h)).reshape(-1, 2)
    except np.linalg.LinAlgError:
        return (0, 0, rw, rh)
    x0, y0 = np.clip(back.min(axis=0), 0, (rw, rh))
    x1, y1 = np.clip(back.max(axis=0), 0, (rw, rh))
    return (int(x0), int(y0), int(np.rint(x1 - x0)), int(np.rint(y1 - y0)))
