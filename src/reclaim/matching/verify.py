"""Geometric verification: is the query a derivative of the enrolled image, and which part of it survives?

Candidates come from embeddings and PDQ at generous thresholds; this confirms one by finding a single
similarity transform (rotation, uniform scale and shift, by RANSAC) that maps many of the enrolled image's
keypoints onto the query's. A crop, a resize, a caption bar, a repaint of part of the picture, a small
rotation or a screenshot of it inside a chat all keep such a mapping for the part that survives (mirror
images are verified against mirrored keypoints); unrelated photos do not. A similarity has 4 degrees of
freedom against a homography's 8, so chance alignments among unrelated keypoints explain fewer matches
(bench/matching_quality.py). The surviving region is the query's frame mapped back into the original's
pixel coordinates.

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
    """Inliers and surviving region when one plausible similarity maps the reference onto the query."""
    (rw, rh), rpts, rdesc = decode(reference)
    (qw, qh), qpts, qdesc = decode(query)
    pairs = ratio_matches(rdesc, qdesc)
    if len(pairs) < MIN_RATIO_MATCHES:
        return None
    src = rpts[[i for i, _ in pairs]].astype(np.float32).reshape(-1, 1, 2)
    dst = qpts[[j for _, j in pairs]].astype(np.float32).reshape(-1, 1, 2)
    tolerance = max(3.0, 0.01 * max(qw, qh))
    a, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=tolerance, maxIters=2000, confidence=0.995
    )
    if a is None or mask is None:
        return None
    h = np.vstack([a, [0.0, 0.0, 1.0]])
    if not MIN_SCALE <= abs(float(np.linalg.det(h[:2, :2]))) ** 0.5 <= MAX_SCALE:
        return None
    return Verification(int(mask.sum()), len(rpts), _region(h, (rw, rh), (qw, qh)))


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
