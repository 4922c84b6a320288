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


@pytest.mark.parametrize("bits", [None, 16, 21])
@pytest.mark.parametrize("threshold", [0, 10, 31, 40, 90])
def test_same_answers_as_brute_force(data: tuple[np.ndarray, ...], bits: int | None, threshold: int) -> None:
    codes, ids, queries = data
    index = PdqMultiHashIndex(bits)
    index.add_codes(ids, codes)
    index.merge()
    got = index.query_codes(queries, threshold)
    assert as_sets(got) == brute(codes, ids, queries, threshold)
    assert all(row == sorted(row) for row in got)  # nearest first
    assert [index.query_codes(queries[k : k + 1], threshold)[0] for k in range(0, 200, 20)] == got[::20]


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


def flip_exactly(code: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(code)
    bits[rng.choice(256, k, replace=False)] ^= 1
    return np.packbits(bits)


def flip_spread(code: np.ndarray, per_chunk: list[int], bits: int, rng: np.random.Generator) -> np.ndarray:
    """Flip per_chunk[j] bits inside chunk j, the index's bits [j*bits, (j+1)*bits) of the hash read as
    little-endian uint64 words: each chunk then differs by as much as the pigeonhole bound allows."""
    flat = np.unpackbits(code, bitorder="little")
    for j, k in enumerate(per_chunk):
        flat[j * bits + rng.choice(bits, k, replace=False)] ^= 1
    return np.packbits(flat, bitorder="little")


def test_pigeonhole_edge_is_found_only_through_the_last_chunk() -> None:
    # 11 chunks of 23 bits at t = 31: chunks 0-9 are probed within 2 flips, chunk 10 within 1.
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    index = PdqMultiHashIndex(23)
    index.add_codes(np.arange(3000), codes)
    index.merge()
    at_t = flip_spread(codes[0], [3] * 10 + [1], 23, rng)  # distance 31, within its radius in chunk 10 only
    past_t = flip_spread(codes[1], [3] * 10 + [2], 23, rng)  # distance 32
    hits = index.query_codes(np.stack([at_t, past_t]), 31)
    assert [(h.ref_id, h.distance) for h in hits[0]] == [(0, 31.0)]
    assert hits[1] == []
    assert [(h.ref_id, h.distance) for h in index.query_codes(past_t[None], 32)[0]] == [(1, 32.0)]


@pytest.mark.parametrize("bits", [None, 12, 23])
def test_hashes_at_exactly_t_are_found_and_at_t_plus_one_are_not(bits: int | None) -> None:
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    ids = rng.permutation(5000).astype(np.int64) + 10**9
    index = PdqMultiHashIndex(bits)
    index.add_codes(ids, codes)
    index.merge()
    for t in [0, 1, 7, 22, 31, 32, 43, 44, 64]:  # at 23 bits, 43 is the widest probe and 44 a scan
        src = rng.integers(0, 5000, 40)
        queries = np.stack([flip_exactly(codes[s], t + k % 2, rng) for k, s in enumerate(src)])
        got = index.query_codes(queries, t)
        assert as_sets(got) == brute(codes, ids, queries, t), t
        for k, s in enumerate(src):
            assert ((int(ids[s]), t) in as_sets(got)[k]) == (k % 2 == 0), (t, k)


def test_an_entry_reached_through_every_chunk_is_reported_once_and_many_hits_all_come_back() -> None:
    rng = np.random.default_rng(2)
    base = rng.integers(0, 256, 32, dtype=np.uint8)
    near_dups = np.stack([base] * 5 + [flip_exactly(base, k % 4, rng) for k in range(40)])  # 45 > the first pass
    codes = np.concatenate([rng.integers(0, 256, (4000, 32), dtype=np.uint8), near_dups])
    ids = np.arange(len(codes), dtype=np.int64)[::-1].copy()
    index = PdqMultiHashIndex(23)
    index.add_codes(ids, codes)
    index.merge()
    queries = np.stack([base, codes[0], flip_exactly(base, 20, rng)])
    got = index.query_codes(queries, 31)
    assert as_sets(got) == brute(codes, ids, queries, 31)
    assert len(got[0]) == 45 and len({h.ref_id for h in got[0]}) == 45
    assert got[0] == sorted(got[0]) and [h.distance for h in got[0][:5]] == [0.0] * 5
    assert [h.ref_id for h in got[1]] == [int(ids[0])]


def test_removed_entries_stay_hidden_in_tables_buffer_and_after_a_merge() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    ids = np.arange(3000, dtype=np.int64) + 500
    index = PdqMultiHashIndex(16)
    index.add_codes(ids[:2900], codes[:2900])
    index.merge()
    index.add_codes(ids[2900:], codes[2900:])  # side buffer
    gone = [int(i) for i in ids[::7]]  # some tabled, some buffered
    index.remove(gone)
    index.remove([123456789])  # unknown ids are ignored
    assert len(index) == 3000 - len(gone)
    keep = ~np.isin(ids, gone)
    queries = near(codes, rng, 12)
    want = brute(codes[keep], ids[keep], queries, 31)
    assert as_sets(index.query_codes(queries, 31)) == want
    assert as_sets(index.query_codes(queries, 90)) == brute(codes[keep], ids[keep], queries, 90)  # scan path
    index.merge()
    assert len(index) == 3000 - len(gone)
    assert as_sets(index.query_codes(queries, 31)) == want


def test_single_adds_wait_in_the_side_buffer_until_it_is_merged() -> None:
    rng = np.random.default_rng(6)
    codes = rng.integers(0, 256, (9000, 32), dtype=np.uint8)
    ids = np.arange(9000, dtype=np.int64)
    index = PdqMultiHashIndex()
    index.add_codes(ids[:4000], codes[:4000])
    index.merge()
    queries = near(codes[::40], rng, 31)
    for k in range(4000, 8096):  # up to the buffer's limit: still unmerged, found by the scan
        index.add_codes(ids[k : k + 1], codes[k : k + 1])
    assert index._tabled == 4000
    assert as_sets(index.query_codes(queries, 31)) == brute(codes[:8096], ids[:8096], queries, 31)
    index.add_codes(ids[8096:], codes[8096:])  # over the limit: merged
    assert index._tabled == 9000 == len(index)
    assert as_sets(index.query_codes(queries, 31)) == brute(codes, ids, queries, 31)


@pytest.mark.parametrize("bits", [None, 12])
def test_save_and_load_keep_answers_and_chunk_width(tmp_path: Path, bits: int | None) -> None:
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 256, (4000, 32), dtype=np.uint8)
    ids = rng.permutation(4000).astype(np.int64)
    index = PdqMultiHashIndex(bits)
    index.add_codes(ids[:3000], codes[:3000])
    index.merge()
    index.add_codes(ids[3000:], codes[3000:])
    index.remove([int(ids[5])])
    index.save(tmp_path / "pdq.npz")
    loaded = PdqMultiHashIndex.load(tmp_path / "pdq.npz")
    assert len(loaded) == 3999 and loaded.chunk_bits == bits
    queries = near(codes[:100], rng, 31)
    assert loaded.query_codes(queries, 31) == index.query_codes(queries, 31)
    assert all(h.ref_id != ids[5] for row in loaded.query_codes(codes[:10], 0) for h in row)


def test_load_refuses_files_it_did_not_write(tmp_path: Path) -> None:
    index = PdqMultiHashIndex()
    index.add([1, 2], ["0" * 64, "f" * 64])
    good = tmp_path / "pdq.npz"
    index.save(good)
    (tmp_path / "garbage.npz").write_bytes(b"garbage")
    (tmp_path / "truncated.npz").write_bytes(good.read_bytes()[:200])
    np.save(tmp_path / "array.npy", np.zeros((2, 32), np.uint8))
    with (tmp_path / "old.npz").open("wb") as f:  # the previous format: tables saved, no version
        np.savez(f, codes=np.zeros((2, 4), np.uint64), ids=np.arange(2), perm=np.zeros(24, np.int32), bits=21)
    with (tmp_path / "newer.npz").open("wb") as f:
        np.savez(f, version=99, codes=np.zeros((2, 32), np.uint8), ids=np.arange(2), chunk_bits=0)
    for name in ["garbage.npz", "truncated.npz", "array.npy", "old.npz", "newer.npz"]:
        with pytest.raises(ValueError):
            PdqMultiHashIndex.load(tmp_path / name)
    assert len(PdqMultiHashIndex.load(good)) == 2


def test_thresholds_are_inclusive_and_rounded_down() -> None:
    index = PdqMultiHashIndex()
    index.add([7], ["0" * 64])
    three = "0" * 63 + "7"
    assert [h.ref_id for h in index.query([three], 3)[0]] == [7]
    assert index.query([three], 2.9) == [[]]
    assert index.query(["0" * 64], -0.5) == [[]]
