"""Exact PDQ search for large banks: multi-index hashing (Norouzi et al.), compiled with numba.

The 256 bits are cut into chunks of `bits` bits (bit k of little-endian uint64 word w is bit 64w + k). Per
chunk, the rows are sorted by that chunk's value (`perm`) with the start of every bucket (`offsets`). For a
threshold t, chunk j is probed at radius r_j with sum(r_j + 1) = t + 1: a hash within t differs from the query
in at most r_j bits in some chunk j (else its distance would be > t), so it lies in one of the buckets within
r_j flips of the query's chunk — recall is exactly brute force's. Each hit is reported once: a row is skipped
when an earlier chunk also had it within its radius.

Chunk width, measured on random hashes at t = 31 (one thread, on a shared 2-core machine): at 10M, 11 chunks of
23 bits (ten probed within 2 flips, one within 1: 2,794 buckets and ~3,300 candidates per query) gave ~4,200
lookups/s, 11 x 22 bits ~2,500 and 12 x 21 bits (the earlier numpy design) ~2,050; at 1M, 21 bits did best; up
to 262k entries, 16-bit chunks, whose tables stay in cache, beat wider ones (at 100k: ~59,000/s against
~14,000/s for 23 bits). So the width follows the size of the bank at each merge.
Memory at 10M: codes 320 MB + ids 80 MB + one int32 permutation per chunk 440 MB + offsets 370 MB = 1.2 GB.
bench/matching_scale.py at 10M on both cores: ~6,800 lookups/s batched, ~3,000 one at a time.

A query runs in three passes (bucket bounds, candidate rows, distances) rather than one nested loop, so that
the CPU keeps many of the cache misses in flight (1.6x faster at 10M). Tables are built with a two-digit radix
sort per chunk, in parallel over chunks: ~1.5-3 s at 10M. Adds go to a side buffer searched by brute force and
merged into the tables once it holds more than max(4096, n/1024) entries: at 10M, ~0.4 ms per add amortised,
merge included, and a full buffer costs the lookups about 10 %. Removals are tombstones, dropped at the next
merge. Ids are the caller's and should be unique (the matcher uses bank entry ids).

Saved files hold the codes and ids only: the tables are rebuilt on load (seconds), so a damaged or foreign
file cannot make the compiled kernels read out of bounds. The kernels are compiled on first use, not at import.
"""

from __future__ import annotations

import functools
import math
import threading
import types
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from reclaim.matching.index import Hit
from reclaim.matching.pdq_flat import pdq_hex_to_bytes

# Chunk width by bank size (measured, see the module docstring): small tables that stay in cache for small
# banks, one bucket per 1-2 entries for large ones, never over 23 bits (offsets: 4 * 11 * 2^23 bytes).
SMALL_BANK = 1 << 18
SMALL_BITS = 16
MAX_BITS = 23
WORDS = 4  # 256 bits as four uint64
# Over this many flipped bits per chunk, probing costs more than a scan.
MAX_FLIPS = 3
# The side buffer (searched by brute force) is merged into the tables when it outgrows this.
MIN_BUFFER = 4096
MERGE_FRACTION = 1024
QUERY_BATCH = 4096
# Hits kept per query in the first pass; a query with more is searched again with room for all of them.
HIT_SLOTS = 32
# Smaller batches run on fewer threads (see `_threads_for`).
QUERIES_PER_THREAD = 64
FILE_VERSION = 2


# --- kernels: plain Python here, compiled by numba on first use (see `_jit`) ---------------------------


def prange(n: int) -> range:
    """Replaced by numba.prange when the kernels are compiled."""
    return range(n)


def _popcount(x: np.uint64) -> np.int64:
    """Bits set in a uint64 (LLVM turns this into one popcnt instruction)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


def _chunk_key(words: np.ndarray, row: int, start: int, mask: np.uint64) -> np.int64:
    """Bits [start, start + bits) of a hash (bit k of word w is bit 64w + k), as a bucket number."""
    w = start >> 6
    s = start & 63
    key = words[row, w] >> np.uint64(s)
    if s and w + 1 < WORDS:
        key |= words[row, w + 1] << np.uint64(64 - s)
    return np.int64(key & mask)


def _distance(words: np.ndarray, row: int, q: np.ndarray, i: int) -> np.int64:
    return (
        _popcount(words[row, 0] ^ q[i, 0])
        + _popcount(words[row, 1] ^ q[i, 1])
        + _popcount(words[row, 2] ^ q[i, 2])
        + _popcount(words[row, 3] ^ q[i, 3])
    )


def _build_tables(words: np.ndarray, bits: int, perm: np.ndarray, offsets: np.ndarray) -> None:
    """Sort the rows by each chunk's key: perm[j*n + offsets[j, k] : j*n + offsets[j, k+1]] are the rows in
    bucket k of chunk j. A two-digit radix sort, whose counters stay in cache, not one pass over 2^bits."""
    n = words.shape[0]
    mask = np.uint64((1 << bits) - 1)
    low = bits // 2
    for j in prange(offsets.shape[0]):
        keys = np.empty(n, np.int32)
        for row in range(n):
            keys[row] = _chunk_key(words, row, j * bits, mask)
        by_low = np.empty(n, np.int32)
        by_low_keys = np.empty(n, np.int32)
        _radix_pass(keys, np.arange(n, dtype=np.int32), 0, low, by_low_keys, by_low)
        _radix_pass(by_low_keys, by_low, low, bits - low, keys, perm[j * n : (j + 1) * n])
        _bucket_starts(keys, offsets[j])


def _bucket_starts(sorted_keys: np.ndarray, off: np.ndarray) -> None:
    """off[k] = the first position whose key is >= k."""
    k = 0
    for x in range(sorted_keys.shape[0]):
        while k <= sorted_keys[x]:
            off[k] = x
            k += 1
    off[k:] = sorted_keys.shape[0]


def _radix_pass(
    keys: np.ndarray, rows: np.ndarray, shift: int, width: int, out_keys: np.ndarray, out_rows: np.ndarray
) -> None:
    """Stable counting sort of (keys, rows) by the digit (key >> shift) & (2^width - 1)."""
    digit_mask = (1 << width) - 1
    start = np.zeros((1 << width) + 1, np.int64)
    for x in range(keys.shape[0]):
        start[((keys[x] >> shift) & digit_mask) + 1] += 1
    for d in range(1, start.shape[0]):
        start[d] += start[d - 1]
    for x in range(keys.shape[0]):
        d = (keys[x] >> shift) & digit_mask
        out_keys[start[d]] = keys[x]
        out_rows[start[d]] = rows[x]
        start[d] += 1


def _found_earlier(
    words: np.ndarray, row: int, qkeys: np.ndarray, radii: np.ndarray, j: int, bits: int, mask: np.uint64
) -> bool:
    """Whether a probe of an earlier chunk already reached this row (each hit is reported once)."""
    for jj in range(j):
        if radii[jj] >= 0 and _popcount(np.uint64(_chunk_key(words, row, jj * bits, mask) ^ qkeys[jj])) <= radii[jj]:
            return True
    return False


def _keep(
    ids: np.ndarray, out_rows: np.ndarray, out_dist: np.ndarray, i: int, c: int, row: int, d: np.int64, slots: int
) -> int:
    """Insert a hit in query i's slots, kept sorted nearest first (then by id); returns the new count."""
    if c < slots:
        k = c
        while k > 0 and (out_dist[i, k - 1] > d or (out_dist[i, k - 1] == d and ids[out_rows[i, k - 1]] > ids[row])):
            out_rows[i, k] = out_rows[i, k - 1]
            out_dist[i, k] = out_dist[i, k - 1]
            k -= 1
        out_rows[i, k] = row
        out_dist[i, k] = d
    return c + 1


def _search(
    q: np.ndarray,
    t: int,
    radii: np.ndarray,
    probe_chunk: np.ndarray,
    probe_mask: np.ndarray,
    bits: int,
    words: np.ndarray,
    ids: np.ndarray,
    alive: np.ndarray,
    perm: np.ndarray,
    offsets: np.ndarray,
    tabled: int,
    out_rows: np.ndarray,
    out_dist: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Every live row within t of each query: the buckets (probe_chunk[p], query key ^ probe_mask[p]) of the
    tables (rows < tabled), then a scan of the rest. Counts are exact; at most out_rows.shape[1] hits are kept.

    Each query runs in three branch-light passes (bucket bounds, candidate rows, distances) so that the CPU
    keeps many of their cache misses in flight at once."""
    mask = np.uint64((1 << bits) - 1)
    slots = out_rows.shape[1]
    n_probes = probe_chunk.shape[0] if tabled else 0
    for i in prange(q.shape[0]):
        qkeys = np.empty(radii.shape[0], np.int64)
        for j in range(radii.shape[0]):
            qkeys[j] = _chunk_key(q, i, j * bits, mask)
        lo, size = _bucket_bounds(qkeys, probe_chunk[:n_probes], probe_mask, offsets, tabled)
        rows, via = _candidates(perm, lo, size, probe_chunk)
        c = 0
        for x in range(rows.shape[0]):
            row = rows[x]
            d = _distance(words, row, q, i)
            if d <= t and alive[row] and not _found_earlier(words, row, qkeys, radii, via[x], bits, mask):
                c = _keep(ids, out_rows, out_dist, i, c, row, d, slots)
        for row in range(tabled, words.shape[0]):
            d = _distance(words, row, q, i)
            if d <= t and alive[row]:
                c = _keep(ids, out_rows, out_dist, i, c, row, d, slots)
        counts[i] = c


def _bucket_bounds(
    qkeys: np.ndarray, probe_chunk: np.ndarray, probe_mask: np.ndarray, offsets: np.ndarray, tabled: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where each probed bucket starts in `perm`, and its size."""
    lo = np.empty(probe_chunk.shape[0], np.int64)
    size = np.empty(probe_chunk.shape[0], np.int64)
    for p in range(probe_chunk.shape[0]):
        j = probe_chunk[p]
        k = qkeys[j] ^ probe_mask[p]
        lo[p] = offsets[j, k] + j * tabled
        size[p] = offsets[j, k + 1] - offsets[j, k]
    return lo, size


def _candidates(
    perm: np.ndarray, lo: np.ndarray, size: np.ndarray, probe_chunk: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows in the probed buckets, and the chunk each was found through."""
    rows = np.empty(size.sum(), np.int64)
    via = np.empty(rows.shape[0], np.int64)
    c = 0
    for p in range(lo.shape[0]):
        for x in range(size[p]):
            rows[c] = perm[lo[p] + x]
            via[c] = probe_chunk[p]
            c += 1
    return rows, via


_JIT_LOCK = threading.Lock()
# Parallel kernels run one at a time: numba's fallback threading layer (workqueue, used where OpenMP and TBB
# are missing) aborts the process when two threads launch them at once, and each already uses every core.
_RUN_LOCK = threading.Lock()
_INLINE = (
    "_popcount",
    "_chunk_key",
    "_distance",
    "_found_earlier",
    "_keep",
    "_radix_pass",
    "_bucket_starts",
    "_bucket_bounds",
    "_candidates",
)
_PARALLEL = ("_build_tables", "_search")


def _jit() -> None:
    """Compile the kernels above on first use, not at import: numba takes 0.3 s to import and compiling takes
    seconds (then numba's on-disk cache, beside this file, makes later processes start in well under one)."""
    with _JIT_LOCK:
        if isinstance(_search, types.FunctionType):
            _compile()


def _compile() -> None:
    import numba

    module = globals()
    module["prange"] = numba.prange
    for name in _INLINE:
        module[name] = numba.njit(inline="always", cache=True, nogil=True)(module[name])
    for name in _PARALLEL:
        module[name] = numba.njit(parallel=True, cache=True, nogil=True)(module[name])


# --- the index --------------------------------------------------------------------------------------------


@functools.cache
def _flip_masks(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """XOR masks of up to MAX_FLIPS bits, fewest first, and how many there are with at most r bits, per r."""
    masks = [0]
    n_masks = [1]
    for k in range(1, MAX_FLIPS + 1):
        masks.extend(sum(1 << b for b in combo) for combo in combinations(range(bits), k))
        n_masks.append(len(masks))
    return np.asarray(masks, dtype=np.int64), np.asarray(n_masks, dtype=np.int64)


@dataclass(frozen=True)
class _Plan:
    """How to search at one threshold: the probe radius per chunk and the buckets to probe, or a full scan."""

    radii: np.ndarray
    probe_chunk: np.ndarray  # probe p looks at chunk probe_chunk[p], bucket (query's key ^ probe_mask[p])
    probe_mask: np.ndarray
    scan: bool


@functools.lru_cache(maxsize=64)
def _plan(bits: int, t: int) -> _Plan:
    radii = _radii(t, 256 // bits)
    if radii.max() > MAX_FLIPS:  # probing would cost more than scanning every row
        empty = np.zeros(0, np.int64)
        return _Plan(np.full(len(radii), -1, np.int64), empty, empty, scan=True)
    masks, n_masks = _flip_masks(bits)
    chunks = [np.full(n_masks[r], j, dtype=np.int64) for j, r in enumerate(radii.tolist()) if r >= 0]
    picked = [masks[: n_masks[r]] for r in radii.tolist() if r >= 0]
    return _Plan(radii, np.concatenate(chunks), np.concatenate(picked), scan=False)


def _radii(t: int, chunks: int) -> np.ndarray:
    """Probe radius per chunk. If every chunk j differed in more than radii[j] bits, the distance would be at
    least sum(radii + 1) = t + 1: so a hash within t is in a probed bucket of at least one chunk."""
    q, rem = divmod(t + 1, chunks)
    return np.asarray([q] * rem + [q - 1] * (chunks - rem), dtype=np.int64)


def _words(codes8: np.ndarray) -> np.ndarray:
    codes8 = np.ascontiguousarray(codes8, dtype=np.uint8)
    if codes8.ndim != 2 or codes8.shape[1] != 8 * WORDS:
        raise ValueError(f"expected (n, 32) uint8 PDQ codes, got shape {codes8.shape}")
    return codes8.view(np.uint64)


class PdqMultiHashIndex:
    """`SignalIndex` over PDQ hex values with exact range search, for banks of ten thousand entries and more."""

    def __init__(self, chunk_bits: int | None = None) -> None:
        """`chunk_bits` fixes the chunk width; by default it follows the size of the bank at each merge."""
        if chunk_bits is not None and not 8 <= chunk_bits <= 24:
            raise ValueError("chunk_bits must be between 8 and 24")
        self.chunk_bits = chunk_bits
        self.bits = chunk_bits or SMALL_BITS  # the width of the current tables
        self.chunks = 256 // self.bits
        # Rows [0, n) in insertion order, in arrays with room to grow; rows [0, tabled) are in the tables.
        self._n = 0
        self._words = np.zeros((0, WORDS), dtype=np.uint64)
        self._ids = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._dead = 0
        self._tabled = 0
        self._perm = np.zeros(0, dtype=np.int32)  # per chunk, the rows sorted by that chunk's key
        self._offsets = np.zeros((self.chunks, 1), dtype=np.int32)  # per chunk, where each bucket starts

    # --- building -------------------------------------------------------------------------------------

    def add(self, ref_ids: Sequence[int], values: Sequence[str]) -> None:
        if len(ref_ids) != len(values):
            raise ValueError("ref_ids and values differ in length")
        if values:
            self.add_codes(np.asarray(ref_ids, dtype=np.int64), pdq_hex_to_bytes(values))

    def add_codes(self, ids: np.ndarray, codes8: np.ndarray) -> None:
        """Add (n, 32) uint8 codes to the side buffer; merge it into the tables once it outgrows its limit."""
        words = _words(codes8)
        if len(ids) != len(words):
            raise ValueError("ids and codes differ in length")
        if len(words) == 0:
            return
        self._reserve(self._n + len(words))
        end = self._n + len(words)
        self._words[self._n : end] = words
        self._ids[self._n : end] = ids
        self._alive[self._n : end] = True
        self._n = end
        if self._n - self._tabled > max(MIN_BUFFER, self._tabled // MERGE_FRACTION):
            self.merge()

    def _reserve(self, n: int) -> None:
        """Grow the row arrays by an eighth at a time: one add is then amortised O(1) without wasting much."""
        if n <= len(self._ids):
            return
        cap = max(n, len(self._ids) + len(self._ids) // 8)
        self._words = _grown(self._words, self._n, cap)
        self._ids = _grown(self._ids, self._n, cap)
        self._alive = _grown(self._alive, self._n, cap)

    def merge(self) -> None:
        """Rebuild the chunk tables over every live entry (drops tombstones)."""
        if self._tabled == self._n and not self._dead:
            return
        _jit()
        if self._dead:
            keep = self._alive[: self._n]
            self._words, self._ids = self._words[: self._n][keep], self._ids[: self._n][keep]
            self._n, self._dead = len(self._ids), 0
            self._alive = np.ones(self._n, dtype=bool)
        # Until the new tables are complete, every row is searched by scanning (right, if slow, on failure).
        self._tabled, self._perm = 0, np.zeros(0, dtype=np.int32)
        if self._n == 0:
            return
        self.bits = self.chunk_bits or _auto_bits(self._n)
        self.chunks = 256 // self.bits
        if self._n >= 2**31:
            raise ValueError("too many entries for int32 row numbers")
        shape = (self.chunks, (1 << self.bits) + 1)
        offsets = self._offsets if self._offsets.shape == shape else np.empty(shape, dtype=np.int32)
        perm = np.empty(self.chunks * self._n, dtype=np.int32)
        with _RUN_LOCK:
            _build_tables(self._words[: self._n], self.bits, perm, offsets)
        self._perm, self._offsets, self._tabled = perm, offsets, self._n

    def remove(self, ref_ids: Sequence[int]) -> None:
        """Tombstone every entry with these ids (a scan of the id column: disabling is rare)."""
        if not ref_ids:
            return
        hit = np.isin(self._ids[: self._n], np.asarray(ref_ids, dtype=np.int64)) & self._alive[: self._n]
        self._alive[: self._n][hit] = False
        self._dead += int(hit.sum())

    def __len__(self) -> int:
        return self._n - self._dead

    # --- searching ------------------------------------------------------------------------------------

    def query(self, values: Sequence[str], threshold: float) -> list[list[Hit]]:
        if not values:
            return []
        return self.query_codes(pdq_hex_to_bytes(values), threshold)

    def query_codes(self, codes8: np.ndarray, threshold: float) -> list[list[Hit]]:
        """Every live entry within `threshold` (inclusive) of each (n, 32) uint8 query, nearest first."""
        q = np.array(_words(codes8))  # writable: numba compiles a separate kernel for read-only arrays
        t = math.floor(threshold)
        if t < 0 or self._n == 0:
            return [[] for _ in range(len(q))]
        _jit()
        plan = _plan(self.bits, t)
        tabled = 0 if plan.scan else self._tabled
        out: list[list[Hit]] = []
        for lo in range(0, len(q), QUERY_BATCH):
            out.extend(self._search_batch(q[lo : lo + QUERY_BATCH], t, plan, tabled))
        return out

    def _search_batch(self, q: np.ndarray, t: int, plan: _Plan, tabled: int) -> list[list[Hit]]:
        rows, dists, counts = self._run(q, t, plan, tabled, HIT_SLOTS)
        over = np.nonzero(counts > HIT_SLOTS)[0]
        if len(over):  # rare: a query with many hits, searched again with room for all of them
            more_rows, more_dists, _ = self._run(q[over], t, plan, tabled, int(counts[over].max()))
            rows = np.concatenate([rows, np.zeros((len(q), more_rows.shape[1] - HIT_SLOTS), rows.dtype)], axis=1)
            dists = np.concatenate([dists, np.zeros_like(rows[:, HIT_SLOTS:], dists.dtype)], axis=1)
            rows[over], dists[over] = more_rows, more_dists
        kept = np.arange(rows.shape[1]) < counts[:, None]
        ids = self._ids[rows[kept]].tolist()
        dist = dists[kept].tolist()
        out = []
        lo = 0
        for c in counts.tolist():
            out.append([Hit(float(dist[k]), ids[k]) for k in range(lo, lo + c)])
            lo += c
        return out

    def _run(
        self, q: np.ndarray, t: int, plan: _Plan, tabled: int, slots: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = np.empty((len(q), slots), dtype=np.int64)
        dists = np.empty((len(q), slots), dtype=np.int32)
        counts = np.empty(len(q), dtype=np.int64)
        n = self._n
        with _threads_for(len(q)):
            _search(
                q, t, plan.radii, plan.probe_chunk, plan.probe_mask, self.bits, self._words[:n], self._ids[:n],
                self._alive[:n], self._perm, self._offsets, tabled, rows, dists, counts,
            )  # fmt: skip
        return rows, dists, counts

    # --- persistence (plain numpy arrays, no pickle; the tables are rebuilt on load) --------------------

    def save(self, path: Path) -> None:
        live = self._alive[: self._n]
        codes = self._words[: self._n][live].view(np.uint8)
        with path.open("wb") as f:
            np.savez(
                f,
                version=np.int64(FILE_VERSION),
                codes=codes,
                ids=self._ids[: self._n][live],
                chunk_bits=np.int64(self.chunk_bits or 0),
            )

    @classmethod
    def load(cls, path: Path) -> PdqMultiHashIndex:
        """Read a saved index (rebuilding its tables); ValueError for a file it did not write or a damaged one."""
        arrays = _read_npz(path, ("version", "codes", "ids", "chunk_bits"))
        codes, ids = arrays["codes"], arrays["ids"]
        if int(arrays["version"]) != FILE_VERSION or ids.dtype != np.int64 or ids.shape != (len(codes),):
            raise ValueError(f"{path} is not a PDQ index of version {FILE_VERSION}")
        index = cls(int(arrays["chunk_bits"]) or None)
        index.add_codes(ids, codes)
        index.merge()
        return index


def _read_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError(f"{path} is not an .npz archive")
        with loaded as z:
            return {name: z[name] for name in names}
    except (KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a saved PDQ index: {exc!r}") from exc


def _auto_bits(n: int) -> int:
    return SMALL_BITS if n < SMALL_BANK else min(MAX_BITS, n.bit_length() + 1)


@contextmanager
def _threads_for(n_queries: int) -> Iterator[None]:
    """Fewer threads for small batches: waking a thread (a whole time slice when the cores are busy) would cost
    more than it saves."""
    import numba

    with _RUN_LOCK:
        before = numba.get_num_threads()
        numba.set_num_threads(max(1, min(before, n_queries // QUERIES_PER_THREAD)))
        try:
            yield
        finally:
            numba.set_num_threads(before)


def _grown(a: np.ndarray, used: int, cap: int) -> np.ndarray:
    out = np.zeros((cap, *a.shape[1:]), dtype=a.dtype)
    out[:used] = a[:used]
    return out
