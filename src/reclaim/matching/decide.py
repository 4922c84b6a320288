"""The decision rule over candidates from every index: per-bank thresholds, quality gating, negative banks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reclaim.signals.pdq import PDQ_MIN_QUALITY


@dataclass(frozen=True, slots=True)
class Candidate:
    """A bank entry an index proposed for some media, by one method, at a distance (and maybe a score)."""

    bank_id: int
    entry_id: int
    method: str
    distance: float
    score: float | None = None


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
METHOD_RANK = {"sha256": 0, "md5": 1}


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
        limit = rule.thresholds.get(c.method, default_thresholds.get(c.method, 0.0))
        if c.distance > limit:
            continue
        if c.entry_id not in best or _certainty(c) < _certainty(best[c.entry_id]):
            best[c.entry_id] = c
    kept = sorted(best.values(), key=lambda c: (_certainty(c), c.entry_id))
    negative = [c for c in kept if banks[c.bank_id].kind == "negative"]
    positive = [c for c in kept if banks[c.bank_id].kind != "negative"]
    if negative:
        return Decision(matches=[], suppressed=positive, negative_hits=negative)
    return Decision(matches=positive)


def _certainty(c: Candidate) -> tuple[int, float]:
    return (METHOD_RANK.get(c.method, len(METHOD_RANK)), c.distance)
