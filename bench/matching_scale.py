"""Matching at scale: PDQ in the multi-index-hashing index and SSCD in the FAISS float index, against numpy
brute force measured in the same run (and FAISS's flat binary index for PDQ).

    .venv/bin/python bench/matching_scale.py                       # full size: 10M PDQ, 1M SSCD
    .venv/bin/python bench/matching_scale.py --pdq 1000000 --sscd 100000

PDQ bank: uniformly random 256-bit hashes. Queries: half are copies of bank entries with 0-31 bits flipped
(each must be found), half random. Recall is measured against brute force on `--truth` queries at d <= 31.
SSCD bank: 512-d unit vectors drawn around 2,000 centres (real embeddings cluster; uniform random vectors
would make approximate search look easier than it is). Queries: bank vectors mixed with noise to cosine
0.35-0.95 with their source (every copy-detection candidate the engine proposes), and random ones.
Timings are wall-clock on whatever machine runs this; the development machine has 2 cores shared with
other work, so its numbers are noisy.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time

import faiss
import numpy as np

from reclaim.matching.float_index import FloatIndex
from reclaim.matching.pdq_flat import PdqFlatIndex
from reclaim.matching.pdq_mih import MERGE_FRACTION, MIN_BUFFER, PdqMultiHashIndex

PDQ_T = 31
SSCD_PROPOSE_COS = 0.35


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def flip_bits(codes: np.ndarray, rng: np.random.Generator, max_bits: int) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1)
    for row in bits:
        row[rng.choice(256, int(rng.integers(0, max_bits + 1)), replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def brute_pdq(words: np.ndarray, q8: np.ndarray, t: int) -> list[set[int]]:
    """The numpy baseline: XOR + popcount against every entry, in blocks."""
    q = q8.view(np.uint64).reshape(-1, 4)
    out = []
    for row in q:
        d = np.bitwise_count(words ^ row).sum(axis=1, dtype=np.int32)
        out.append(set(np.nonzero(d <= t)[0].tolist()))
    return out


def bench_pdq(n: int, n_queries: int, n_truth: int, rng: np.random.Generator) -> None:
    print(f"\n## PDQ: {n:,} random hashes, {n_queries:,} queries (half near a bank entry), threshold {PDQ_T}\n")
    base_rss = rss_mb()
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    near = flip_bits(codes[rng.integers(0, n, n_queries // 2)], rng, PDQ_T)
    queries = np.concatenate([near, rng.integers(0, 256, (n_queries - len(near), 32), dtype=np.uint8)])
    words = codes.view(np.uint64).reshape(-1, 4)
    truth_q = np.concatenate([queries[: n_truth // 2], queries[-(n_truth - n_truth // 2) :]])
    rows = []

    t = time.perf_counter()
    truth = brute_pdq(words, truth_q, PDQ_T)
    dt = time.perf_counter() - t
    rows.append(
        ("numpy brute force (baseline)", "-", f"{codes.nbytes / 2**20:,.0f}", f"{n_truth / dt:,.1f}", "-", "100 %")
    )

    t = time.perf_counter()
    warm = PdqMultiHashIndex()
    warm.add_codes(np.zeros(1, dtype=np.int64), codes[:1])
    warm.merge()
    warm.query_codes(queries[:1], PDQ_T)
    jit_s = time.perf_counter() - t
    before = rss_mb()
    t = time.perf_counter()
    mih = PdqMultiHashIndex()
    mih.add_codes(np.arange(n, dtype=np.int64), codes)
    mih.merge()
    build = time.perf_counter() - t
    mem = rss_mb() - before
    t = time.perf_counter()
    got = mih.query_codes(queries, PDQ_T)
    batched = n_queries / (time.perf_counter() - t)
    t = time.perf_counter()
    for k in range(n_truth):
        mih.query_codes(truth_q[k : k + 1], PDQ_T)
    single = n_truth / (time.perf_counter() - t)
    got_truth = mih.query_codes(truth_q, PDQ_T)
    found = sum(len(truth[k] & {h.ref_id for h in got_truth[k]}) for k in range(n_truth))
    total = sum(len(s) for s in truth)
    recall = f"{100 * found / max(1, total):.2f} % ({found}/{total})"
    planted = sum(1 for hits in got[: len(near)] if hits)
    rows.append(
        (
            f"multi-index hashing, numba, {mih.chunks} x {mih.bits} bits (Reclaim)",
            f"{build:.1f}",
            f"{mem:,.0f}",
            f"{single:,.0f}",
            f"{batched:,.0f}",
            recall,
        )
    )

    # Adding one entry at a time until the side buffer is full, then one more, which merges it into the tables:
    # the total over these adds is the amortised cost, merge included.
    limit = max(MIN_BUFFER, n // MERGE_FRACTION)
    extra = rng.integers(0, 256, (limit + 1, 32), dtype=np.uint8)
    t = time.perf_counter()
    for k in range(limit):
        mih.add_codes(np.array([n + k], dtype=np.int64), extra[k : k + 1])
    fill_s = time.perf_counter() - t
    t = time.perf_counter()
    mih.query_codes(queries, PDQ_T)
    batched_full = n_queries / (time.perf_counter() - t)
    t = time.perf_counter()
    mih.add_codes(np.array([n + limit], dtype=np.int64), extra[limit:])
    merge_s = time.perf_counter() - t
    amortised = (fill_s + merge_s) / (limit + 1)
    after_add = mih.query_codes(extra[:100], 0)
    assert all(any(h.ref_id == n + k for h in hits) for k, hits in enumerate(after_add))
    del mih
    gc.collect()

    before = rss_mb()
    t = time.perf_counter()
    flat = PdqFlatIndex()
    faiss_index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(256))
    faiss_index.add_with_ids(codes, np.arange(n, dtype=np.int64))
    flat._index = faiss_index
    fbuild = time.perf_counter() - t
    fmem = rss_mb() - before
    t = time.perf_counter()
    fgot = flat.query([bytes(row).hex() for row in truth_q], PDQ_T)
    fq = n_truth / (time.perf_counter() - t)
    ffound = sum(len(truth[k] & {h.ref_id for h in fgot[k]}) for k in range(n_truth))
    rows.append(
        (
            "FAISS binary flat",
            f"{fbuild:.1f}",
            f"{fmem:,.0f}",
            "-",
            f"{fq:,.0f}",
            f"{100 * ffound / max(1, total):.2f} %",
        )
    )
    del flat, faiss_index
    gc.collect()

    print("| index | build s | memory MB | lookups/s single | lookups/s batched | recall d<=31 vs brute force |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nPlanted near-copies found by multi-index hashing: {planted}/{len(near)}")
    print(f"First use in this process (numba compile, or load from its cache): {jit_s:.1f} s")
    print(f"Adding one entry: {1e6 * fill_s / limit:.1f} us per call into the side buffer ({limit:,} entries); "
          f"the add that merges it {merge_s:.2f} s; amortised {1e6 * amortised:.0f} us per add")  # fmt: skip
    print(f"Batched lookups with the side buffer full: {batched_full:,.0f}/s")
    print(f"Process memory: {rss_mb() - base_rss:,.0f} MB over baseline now, peak RSS {peak_mb():,.0f} MB")


def clustered(n: int, centres: np.ndarray, rng: np.random.Generator, spread: float) -> np.ndarray:
    x = centres[rng.integers(0, len(centres), n)] + rng.normal(0, spread, (n, centres.shape[1])).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def bench_sscd(n: int, n_queries: int, n_truth: int, rng: np.random.Generator) -> None:
    dim = 512
    print(
        f"\n## SSCD: {n:,} vectors (512-d, clustered), {n_queries:,} queries, proposal cosine >= {SSCD_PROPOSE_COS}\n"
    )
    centres = rng.normal(0, 1, (2000, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    bank = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, 100_000):
        bank[lo : lo + 100_000] = clustered(min(100_000, n - lo), centres, rng, 0.06)
    src = rng.integers(0, n, n_queries // 2)
    mix = rng.uniform(0.35, 0.95, (len(src), 1)).astype(np.float32)
    noise = clustered(len(src), centres, rng, 0.06)
    noise -= (noise * bank[src]).sum(axis=1, keepdims=True) * bank[src]
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    near = mix * bank[src] + np.sqrt(1 - mix**2) * noise
    queries = np.concatenate([near, clustered(n_queries - len(near), centres, rng, 0.06)]).astype(np.float32)
    truth_q = np.concatenate([queries[: n_truth // 2], queries[-(n_truth - n_truth // 2) :]])
    truth_src = src[: n_truth // 2]
    rows = []

    t = time.perf_counter()
    sims = truth_q @ bank.T
    top = np.argsort(-sims, axis=1)[:, :32]
    dt = time.perf_counter() - t
    rows.append(
        ("numpy brute force (baseline)", "-", f"{bank.nbytes / 2**20:,.0f}", f"{n_truth / dt:,.1f}", "100 %", "100 %")
    )
    truth_sets = [set(top[k][sims[k, top[k]] >= SSCD_PROPOSE_COS].tolist()) for k in range(n_truth)]
    del sims

    before = rss_mb()
    t = time.perf_counter()
    index = FloatIndex(dim)
    for lo in range(0, n, 200_000):
        index.add(np.arange(lo, min(n, lo + 200_000)), bank[lo : lo + 200_000])
    build = time.perf_counter() - t
    mem = rss_mb() - before
    t = time.perf_counter()
    index.search(queries, 32, 1 - SSCD_PROPOSE_COS)
    batched = n_queries / (time.perf_counter() - t)
    t = time.perf_counter()
    for k in range(min(200, n_truth)):
        index.search(truth_q[k : k + 1], 32, 1 - SSCD_PROPOSE_COS)
    single = min(200, n_truth) / (time.perf_counter() - t)
    got = index.search(truth_q, 32, 1 - SSCD_PROPOSE_COS)
    found = sum(len(truth_sets[k] & {h.ref_id for h in got[k]}) for k in range(n_truth))
    total = sum(len(s) for s in truth_sets)
    planted = sum(1 for k in range(len(truth_src)) if any(h.ref_id == truth_src[k] for h in got[k]))
    rows.append(
        (
            f"FloatIndex ({index.kind}, Reclaim)",
            f"{build:.1f}",
            f"{mem:,.0f}",
            f"{single:,.0f}",
            f"{100 * found / max(1, total):.2f} %",
            f"{100 * planted / max(1, len(truth_src)):.2f} %",
        )
    )
    print("| index | build s | memory MB | lookups/s single | recall, neighbours >= 0.35 (top 32) | planted source |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nFloatIndex batched: {batched:,.0f} lookups/s ({n_queries:,} queries, k=32)")
    t = time.perf_counter()
    for k in range(1000):
        index.add([n + k], queries[k : k + 1])
    print(f"Adding one vector: {1e6 * (time.perf_counter() - t) / 1000:.0f} us per call (IVF: no retraining)")
    print(f"Peak RSS so far {peak_mb():,.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pdq", type=int, default=10_000_000, help="PDQ bank size (0 to skip)")
    ap.add_argument("--sscd", type=int, default=1_000_000, help="SSCD bank size (0 to skip)")
    ap.add_argument("--queries", type=int, default=4000)
    ap.add_argument("--truth", type=int, default=200, help="queries checked against brute force")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    print(f"# Matching scale — {os.cpu_count()} CPUs visible, FAISS threads {faiss.omp_get_max_threads()}")
    if args.pdq:
        bench_pdq(args.pdq, args.queries, args.truth, rng)
    if args.sscd:
        bench_sscd(args.sscd, args.queries, args.truth, rng)


if __name__ == "__main__":
    main()
