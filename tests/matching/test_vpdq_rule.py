"""vPDQ share rule: full copies, excerpts and heavily edited versions match; a few shared frames do not."""

from __future__ import annotations

import pytest

from reclaim.matching.vpdq_rule import compare_shares, unique_good_frames
from reclaim.model import VpdqFrame


def shares(nq: int, nr: int, mq: int, mr: int) -> str | None:
    return compare_shares(nq, nr, set(range(mq)), set(range(mr)), [1.0] * mq).kind()


@pytest.mark.parametrize(
    ("nq", "nr", "mq", "mr", "kind"),
    [
        (100, 100, 95, 90, "full"),
        (20, 200, 20, 22, "excerpt"),
        (500, 500, 50, 52, "partial"),
        (500, 500, 6, 6, None),
        (100, 100, 4, 4, None),
        (0, 100, 0, 0, None),
    ],
)
def test_kinds(nq: int, nr: int, mq: int, mr: int, kind: str | None) -> None:
    assert shares(nq, nr, mq, mr) == kind


def test_low_quality_and_repeated_frames_are_dropped() -> None:
    frames = [VpdqFrame(0, 100, "a" * 64, 0.0), VpdqFrame(1, 100, "a" * 64, 0.1), VpdqFrame(2, 10, "b" * 64, 0.2)]
    assert unique_good_frames(frames) == ["a" * 64]
