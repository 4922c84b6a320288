"""Multi-index hashing: exactly brute force's answers at every threshold, through adds, removals and a reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reclaim.matching.pdq_mih import PdqMultiHashIndex


def brute(codes: np.ndarray, ids: np.ndarray, q: np.ndarray, t: int) -> list[set[tuple[int, int]]]:
    bits = np.unpackbits(codes, axis=1)
    out = []
    for row in np.unpackbits(q, axis=1):
        d = (bits != row).sum(axis=1)
        out.append({(int(ids[i]), int(d[i])) for i in np.nonzero(d <= t)[0]})
    return out


def near(codes: np.ndarray, rng: np.random.Generator, max_bits: int) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1)
    for row in bits:
        row[rng.choice(256, int(rng.integers(0, max_bits + 1)), replace=False)] ^= 1
    return np.packbits(bits, axis=1)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    ids = np.arange(20_000, dtype=np.int64) * 7919 + 13  # ids of the caller, unrelated to row order
    queries = np.concatenate([near(codes[:150], rng, 40), rng.integers(0, 256, (50, 32), dtype=np.uint8)])
    return codes, ids, queries


def as_sets(hits: list[list]) -> list[set[tuple[int, int]]]:  # type: ignore[type-arg]
    return [{(h.ref_id, int(h.distance)) for h in row} for row in hits]


@pytest.mark.parametrize("bits", [16, 21])
@pytest.mark.parametrize("threshold", [0, 10, 31, 40, 90])
def test_same_answers_as_brute_force(data: tuple[np.ndarray, ...], bits: int, threshold: int) -> None:
    codes, ids, queries = data
    index = PdqMultiHashIndex(bits)
    index.add_codes(ids, codes)
    index.merge()
    got = index.query_codes(queries, threshold)
    assert as_sets(got) == brute(codes, ids, queries, threshold)
    assert all(row == sorted(row) for row in got)  # nearest first


def test_adds_are_searchable_before_and_after_a_merge_and_removals_stick(
    data: tuple[np.ndarray, ...], tmp_path: Path
) -> None:
    codes, ids, queries = data
    index = PdqMultiHashIndex()
    index.add_codes(ids[:15_000], codes[:15_000])
    index.merge()
    for k in range(15_000, 15_100):  # one at a time: they wait in the side buffer
        index.add_codes(ids[k : k + 1], codes[k : k + 1])
    index.add([int(i) for i in ids[15_100:]], [bytes(c).hex() for c in codes[15_100:]])
    assert len(index) == 20_000
    assert as_sets(index.query_codes(queries, 31)) == brute(codes, ids, queries, 31)
    gone = [int(i) for i in ids[:100]]
    index.remove(gone)
    assert len(index) == 19_900
    want = brute(codes[100:], ids[100:], queries, 31)
    assert as_sets(index.query_codes(queries, 31)) == want
    index.save(tmp_path / "pdq.npz")
    loaded = PdqMultiHashIndex.load(tmp_path / "pdq.npz")
    assert len(loaded) == 19_900
    assert as_sets(loaded.query_codes(queries, 31)) == want


def test_hex_interface_and_empty_index() -> None:
    index = PdqMultiHashIndex()
    assert index.query(["0" * 64], 31) == [[]]
    index.add([7], ["f" * 64])
    (hits,) = index.query(["f" * 63 + "e"], 31)
    assert [(h.ref_id, h.distance) for h in hits] == [(7, 1.0)]
    with pytest.raises(ValueError):
        index.add([1, 2], ["f" * 64])
