"""Evidence log speed: appends/s and proof verification time, each against a naive baseline in the same run.

Run: .venv/bin/python bench/evidence.py [--appends 20000] [--leaves 100000] [--db sqlite|postgresql|both]

- appends: a naive appender (SELECT max(index)+1, then INSERT, one statement pair per entry) versus
  `append_entry` (one UPDATE ... RETURNING on the head row + INSERT per entry) and `append_entries` (one reservation
  and one multi-row INSERT per batch of 1,000), all in transactions of 1,000 entries on the same database.
- proofs: verifying an RFC 9162 inclusion / consistency proof versus the naive check (recompute the tree head from
  every leaf), at the same tree size.
Goals (issue 6): >= 10,000 appends/s; < 1 ms per proof.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from reclaim.evidence.encoding import encode_entry, leaf_hash
from reclaim.evidence.log import append_entries, append_entry
from reclaim.evidence.merkle import MerkleTree, root_of, verify_consistency, verify_inclusion
from reclaim.store.db import Store, migrate
from reclaim.store.evidence_tables import EvidenceEntry
from reclaim.store.tables import utcnow

PG_URL = os.environ.get("RECLAIM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH = 1000


def body(i: int) -> dict[str, object]:
    """About the size of a real capture entry."""
    return {
        "media_id": i,
        "sha256": f"{i:064x}",
        "md5": f"{i:032x}",
        "pdq": f"{i * 7:064x}",
        "room": {"platform": "telegram", "platform_id": "-1001234567890", "name": "bench room"},
        "locator": f"messages/{i}",
        "message_id": i,
        "posted_at": "2026-01-01T00:00:00Z",
        "captured_at": "2026-01-01T00:00:01Z",
        "original_held": False,
        "tool": "reclaim bench",
        "operator": "bench",
    }


def naive_append(session: Session, kind: str, b: dict[str, object]) -> int:
    """Baseline: next index by MAX()+1, encode, insert (the obvious first implementation)."""
    current = session.scalar(select(func.max(EvidenceEntry.leaf_index)))
    index = 0 if current is None else current + 1
    data = encode_entry(index, kind, utcnow(), b)
    session.execute(
        insert(EvidenceEntry).values(leaf_index=index, kind=kind, entry=data.decode(), leaf_hash=leaf_hash(data).hex())
    )
    return index


@contextmanager
def database(kind: str) -> Iterator[Store]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.db")
            migrate(store.engine)
            yield store
            store.close()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = Store(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        migrate(store.engine)
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def rate(store: Store, n: int, work: Callable[[Session, int, int], None]) -> tuple[float, float]:
    """Appends per wall-clock second, and per second of this process's CPU (robust on a shared, loaded machine;
    for SQLite that is nearly all the work, for PostgreSQL the server's share is not counted)."""
    start, cpu = time.perf_counter(), time.process_time()
    for lo in range(0, n, BATCH):
        with store.transaction() as session:
            work(session, lo, min(lo + BATCH, n))
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def bench_appends(kind: str, n: int) -> list[tuple[str, str, tuple[float, float]]]:
    rows = []
    methods: dict[str, Callable[[Session, int, int], None]] = {
        "naive (MAX+1, insert)": lambda s, lo, hi: (
            [naive_append(s, "capture", body(i)) for i in range(lo, hi)] and None
        ),
        "append_entry": lambda s, lo, hi: [append_entry(s, "capture", body(i)) for i in range(lo, hi)] and None,
        "append_entries (batch 1000)": lambda s, lo, hi: (
            append_entries(s, [("capture", body(i)) for i in range(lo, hi)]) and None
        ),
    }
    for name, work in methods.items():
        with database(kind) as store:
            rows.append((kind, name, rate(store, n, work)))
    return rows


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds per call."""
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def bench_proofs(n: int) -> list[tuple[str, float]]:
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
    t = time.perf_counter()
    tree = MerkleTree(leaves)
    build = time.perf_counter() - t
    root = tree.root()
    m = n // 3 + 1
    index = n - 5
    proof = tree.inclusion_proof(index)
    consistency = tree.consistency_proof(m)
    old_root = tree.root(m)
    return [
        (f"build tree of {n:,} leaves (checkpoint/export cost)", build),
        ("make inclusion proof", timed(lambda: tree.inclusion_proof(index), 200)),
        ("verify inclusion proof", timed(lambda: verify_inclusion(leaves[index], index, n, proof, root), 2000)),
        ("verify consistency proof", timed(lambda: verify_consistency(m, n, consistency, old_root, root), 2000)),
        ("naive: recompute the root from every leaf", timed(lambda: root_of(leaves), 3)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (numbers scale down with load; compare rows of one run)")
    print(f"Appends ({args.appends:,} entries, transactions of {BATCH:,})")
    print(f"{'database':<11} {'method':<30} {'appends/s':>12} {'per CPU-s':>12}")
    for kind in kinds:
        for db, name, (per_s, per_cpu_s) in bench_appends(kind, args.appends):
            print(f"{db:<11} {name:<30} {per_s:>12,.0f} {per_cpu_s:>12,.0f}")
    print()
    print(f"Proofs (tree of {args.leaves:,} leaves; median)")
    print(f"{'operation':<50} {'time':>12}")
    for name, seconds in bench_proofs(args.leaves):
        shown = f"{seconds * 1e6:,.1f} µs" if seconds < 0.01 else f"{seconds * 1e3:,.1f} ms"
        print(f"{name:<50} {shown:>12}")


if __name__ == "__main__":
    main()
