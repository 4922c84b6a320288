"""The decision rule over candidates from every index: per-bank thresholds, quality gating, negative banks.

Methods, most certain first (one match per bank entry keeps the most certain):

- `sha256`, `md5`: identical bytes.
- `pdq`: PDQ distance <= the bank's threshold (31), on hashes of quality >= 50; flips and 90-degree
  rotations match through PDQ's eight dihedral hashes.
- `verified`: a derivative confirmed geometrically: SSCD (cosine >= 1 - SSCD_PROPOSE) or PDQ (distance <=
  PDQ_PROPOSE) proposed the entry, and one similarity transform maps >= MIN_INLIERS of the enrolled image's
  keypoints onto the query, or >= MIN_INLIERS_SPARSE that are >= SPARSE_SHARE of them (matching/verify.py).
  Carries the surviving region of the original.
- `vpdq`: the video share rule (matching/vpdq_rule.py).
- `sscd`: SSCD cosine distance <= the bank's threshold (0.25, i.e. cosine >= 0.75) without verification:
  for entries that have no keypoints (imported), videos, and media matched later from stored signals. Where
  verification was possible and failed, SSCD alone needs cosine >= 0.90 (SSCD_VERIFIABLE_MAX): pictures of
  one style or series reach 0.6-0.8 without being copies of each other.

A match in any negative bank withholds every other match of that media.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reclaim.signals.pdq import PDQ_MIN_QUALITY


@dataclass(frozen=True, slots=True)
class Candidate:
    """A bank entry an index proposed for some media, by one method, at a distance (and maybe a score)."""

    bank_id: int
    entry_id: int
    method: str
    distance: float
    score: float | None = None
    # Method-specific facts stored with the match, e.g. {"region": [x, y, w, h], "inliers": 57}.
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BankRule:
    bank_id: int
    name: str
    kind: str
    thresholds: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Decision:
    matches: list[Candidate] = field(default_factory=list)
    # Matches withheld because the media also matched a negative bank (a known false-positive source).
    suppressed: list[Candidate] = field(default_factory=list)
    negative_hits: list[Candidate] = field(default_factory=list)


# When one entry matches by several methods, the most certain is kept: identical bytes first.
METHOD_RANK = {"sha256": 0, "md5": 1, "pdq": 2, "verified": 3, "vpdq": 4, "sscd": 5}
# Generous proposal limits: a candidate this close is worth verifying (never a match on its own).
SSCD_PROPOSE = 0.65  # cosine >= 0.35; unrelated photos reach 0.1-0.45
PDQ_PROPOSE = 70  # random 256-bit hashes sit at 128 +- 8
# Keypoints one similarity transform must explain for a verified match. bench/matching_quality.py (~2,900
# unrelated pairs with SSCD cosine >= 0.2): at most 7-8 inliers; derivatives of textured pictures reach >= 12
# in every class. Smooth pictures have few keypoints (enrolled 16-60): unrelated ones then reach at most 5,
# so MIN_INLIERS_SPARSE inliers that are at least SPARSE_SHARE of the enrolled keypoints also verify.
MIN_INLIERS = 12
MIN_INLIERS_SPARSE = 8
SPARSE_SHARE = 0.2
# SSCD distance under which a match stands even though verification was possible and did not confirm it.
SSCD_VERIFIABLE_MAX = 0.10


def decide(
    candidates: Iterable[Candidate],
    banks: Mapping[int, BankRule],
    default_thresholds: Mapping[str, float],
    pdq_quality: int | None,
) -> Decision:
    """Keep candidates within their bank's threshold, the most certain per entry; apply negative banks."""
    best: dict[int, Candidate] = {}
    for c in candidates:
        rule = banks.get(c.bank_id)
        if rule is None:
            continue
        if c.method == "pdq" and pdq_quality is not None and pdq_quality < PDQ_MIN_QUALITY:
            continue  # too weak to match on PDQ alone; the item is flagged instead
        if c.method == "verified":
            if not verified_enough(c.details or {}):
                continue
        elif c.distance > _limit(c, rule, default_thresholds):
            continue
        if c.entry_id not in best or _certainty(c) < _certainty(best[c.entry_id]):
            best[c.entry_id] = c
    kept = sorted(best.values(), key=lambda c: (_certainty(c), c.entry_id))
    negative = [c for c in kept if banks[c.bank_id].kind == "negative"]
    positive = [c for c in kept if banks[c.bank_id].kind != "negative"]
    if negative:
        return Decision(matches=[], suppressed=positive, negative_hits=negative)
    return Decision(matches=positive)


def verified_enough(details: Mapping[str, Any]) -> bool:
    inliers = int(details.get("inliers", 0))
    enrolled = int(details.get("reference_keypoints", 0))
    return inliers >= MIN_INLIERS or (inliers >= MIN_INLIERS_SPARSE and inliers >= SPARSE_SHARE * enrolled)


def _limit(c: Candidate, rule: BankRule, default_thresholds: Mapping[str, float]) -> float:
    limit = rule.thresholds.get(c.method, default_thresholds.get(c.method, 0.0))
    if c.method == "sscd" and (c.details or {}).get("verifiable"):
        return min(limit, SSCD_VERIFIABLE_MAX)
    return limit


def _certainty(c: Candidate) -> tuple[int, float]:
    return (METHOD_RANK.get(c.method, len(METHOD_RANK)), c.distance)
