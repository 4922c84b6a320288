"""The flat PDQ index is exact: its answers equal brute force for any data and threshold."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.matching.pdq_flat import PdqFlatIndex
from reclaim.signals.hexhash import hamming_hex


def flip_bits(value: str, n: int, rng: random.Random) -> str:
    as_int = int(value, 16)
    for bit in rng.sample(range(256), n):
        as_int ^= 1 << bit
    return f"{as_int:064x}"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 60), threshold=st.integers(0, 128))
def test_range_query_equals_brute_force(seed: int, n: int, threshold: int) -> None:
    rng = random.Random(seed)
    base = f"{rng.getrandbits(256):064x}"
    refs = [flip_bits(base, rng.randint(0, 140), rng) for _ in range(n)]
    query = flip_bits(base, rng.randint(0, 40), rng)
    index = PdqFlatIndex()
    index.add(list(range(100, 100 + n)), refs)
    expected = sorted(
        (hamming_hex(query, r), 100 + i) for i, r in enumerate(refs) if hamming_hex(query, r) <= threshold
    )
    got = [(h.distance, h.ref_id) for h in index.query([query], threshold)[0]]
    assert got == [(float(d), i) for d, i in expected]


def test_remove_and_size() -> None:
    index = PdqFlatIndex()
    index.add([1, 2, 3], ["0" * 64, "0" * 63 + "1", "f" * 64])
    assert len(index) == 3
    index.remove([2])
    assert len(index) == 2
    assert [h.ref_id for h in index.query(["0" * 64], 31)[0]] == [1]


def test_empty_index_and_empty_query() -> None:
    index = PdqFlatIndex()
    assert index.query(["0" * 64], 31) == [[]]
    assert index.query([], 31) == []
