"""vPDQ's comparison rule: the share of (unique, good-quality) frames of each video matched by the other.

The reference rule (python-threatexchange, vPDQ's own matcher) calls two videos a match when at least 80 %
of the unique frames of each have a frame of the other within PDQ distance 31. That rule misses what this
field needs most: excerpts (a clip cut from a longer video) and edits that change many frames (a large logo
over the picture). On the reference samples, the logo version of the chair clip shares only ~10 % of its
frames with the other versions, while unrelated clips share none. So Reclaim matches when:

- `full`: both shares reach `match_percent` (the reference rule); or
- `excerpt`: one video's share reaches `match_percent` (one is contained in the other); or
- `partial`: both shares reach `partial_percent` and at least `partial_frames` distinct frames matched.

Frames of low quality (flat, black, title cards) are dropped first, so they cannot make a match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reclaim.model import VpdqFrame

VPDQ_QUALITY_MIN = 50
VPDQ_MATCH_PERCENT = 80.0
VPDQ_PARTIAL_PERCENT = 5.0
VPDQ_PARTIAL_FRAMES = 10


def unique_good_frames(frames: Iterable[VpdqFrame], min_quality: int = VPDQ_QUALITY_MIN) -> list[str]:
    """Distinct frame hashes of usable quality, in first-seen order (still scenes repeat a hash)."""
    seen: dict[str, None] = {}
    for f in frames:
        if f.quality >= min_quality:
            seen.setdefault(f.pdq, None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class VpdqComparison:
    query_percent: float
    reference_percent: float
    matched_frames: int
    median_distance: float

    def kind(
        self,
        match_percent: float = VPDQ_MATCH_PERCENT,
        partial_percent: float = VPDQ_PARTIAL_PERCENT,
        partial_frames: int = VPDQ_PARTIAL_FRAMES,
    ) -> str | None:
        """'full', 'excerpt', 'partial', or None when the videos do not match."""
        lo, hi = sorted((self.query_percent, self.reference_percent))
        if lo >= match_percent:
            return "full"
        if hi >= match_percent:
            return "excerpt"
        if lo >= partial_percent and self.matched_frames >= partial_frames:
            return "partial"
        return None

    def is_match(self) -> bool:
        return self.kind() is not None

    @property
    def score(self) -> float:
        """The larger of the two shares, 0-1: how much of one video is found in the other."""
        return max(self.query_percent, self.reference_percent) / 100.0


def compare_shares(
    n_query: int,
    n_reference: int,
    matched_query: set[int],
    matched_reference: set[int],
    distances: list[float],
) -> VpdqComparison:
    q = 100.0 * len(matched_query) / n_query if n_query else 0.0
    r = 100.0 * len(matched_reference) / n_reference if n_reference else 0.0
    ds = sorted(distances)
    median = ds[len(ds) // 2] if ds else float("inf")
    return VpdqComparison(q, r, len(matched_query), median)
