"""vPDQ agrees with the reference vPDQ output published with ThreatExchange (tests/data/conformance, BSD)."""

from __future__ import annotations

from functools import cache

import pytest

from reclaim.matching.vpdq_rule import compare_shares, unique_good_frames
from reclaim.model import VpdqFrame
from reclaim.settings import Limits
from reclaim.signals.hashing import hash_media
from reclaim.signals.hexhash import hamming_hex
from reclaim.signals.vpdq import parse_vpdq
from tests.conftest import CONFORMANCE

VPDQ = CONFORMANCE / "vpdq"
VIDEOS = sorted(p.stem for p in (VPDQ / "videos").glob("*.mp4"))


@cache
def ours(name: str) -> tuple[VpdqFrame, ...]:
    hashed = hash_media((VPDQ / "videos" / f"{name}.mp4").read_bytes(), Limits())
    return tuple(parse_vpdq(hashed.signals["vpdq"].value))


def reference(name: str) -> list[VpdqFrame]:
    return parse_vpdq((VPDQ / "hashes" / f"{name}.txt").read_text())


@pytest.mark.parametrize("name", VIDEOS)
def test_frames_agree_with_reference(name: str) -> None:
    mine, ref = ours(name), reference(name)
    assert abs(len(mine) - len(ref)) <= 1
    distances = sorted(hamming_hex(a.pdq, b.pdq) for a, b in zip(mine, ref, strict=False))
    assert max(distances) <= 10, f"median {distances[len(distances) // 2]}, max {max(distances)}"
    for a, b in zip(mine, ref, strict=False):
        assert a.frame == b.frame
        assert abs(a.timestamp - b.timestamp) < 0.05


def _matches(a: str, b: str) -> bool:
    fa, fb = unique_good_frames(ours(a)), unique_good_frames(ours(b))
    mq = {i for i, x in enumerate(fa) if any(hamming_hex(x, y) <= 31 for y in fb)}
    mr = {j for j, y in enumerate(fb) if any(hamming_hex(x, y) <= 31 for x in fa)}
    return compare_shares(len(fa), len(fb), mq, mr, []).is_match()


CHAIRS = [v for v in VIDEOS if v.startswith("chair-")]
OTHERS = [v for v in VIDEOS if v.startswith(("pattern-", "doorknob"))]


@pytest.mark.parametrize(("a", "b"), [(a, b) for a in CHAIRS for b in CHAIRS if a < b])
def test_versions_of_one_clip_match(a: str, b: str) -> None:
    assert _matches(a, b)


@pytest.mark.parametrize(("a", "b"), [(a, b) for a in CHAIRS for b in OTHERS])
def test_different_clips_do_not_match(a: str, b: str) -> None:
    assert not _matches(a, b)
