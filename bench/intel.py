"""Intel benchmarks: lineage quality on synthetic worlds, lineage + counting at scale, institution extraction.

institutions: .venv/bin/python bench/intel.py institutions
  Precision and recall of institution names on labelled titles and messages (reclaim.intel.synthetic
  INSTITUTION_SAMPLES), with the rules alone (the baseline) and with the Kiwi veto when kiwipiepy is installed.

quality: .venv/bin/python bench/intel.py quality [--worlds 5] [--decoys 30]
  Writes decoy-rich synthetic worlds (reclaim.intel.synthetic: Telegram Desktop exports with known lineages),
  ingests each (RECLAIM_SSCD=off: lineage does not read SSCD), and sweeps the lineage threshold. Precision and
  recall are over pairs of rooms placed in one lineage (a pair is right when both rooms are of one true
  lineage), and link precision over the links shown. Baseline in the same run: title similarity alone
  (rooms joined when their normalised titles' bigram Jaccard >= 0.5), what a person sorting by name would do.

scale: .venv/bin/python bench/intel.py scale [--rooms 1000] [--messages 1000000] [--actors 300000]
  Seeds a fresh SQLite workspace directly with bulk inserts (the driver's executemany, not exports: an export of
  1M messages would measure the ingest, which bench/telegram_ingest.py covers): rooms in lineages of 2-4
  recreations with 20-70% of members carried over, decoy rooms, actors drawn from per-community pools, messages
  spread over each room's life. Then times: the baseline scan (SELECT DISTINCT room, actor: the I/O floor every
  method pays), lineage (load + score + assemble), `actors stats` over all rooms, and an exact COUNT DISTINCT.
  Goal: lineage and counting over 1,000 rooms, 1M messages, 300k actors in <= 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text

from reclaim.intel import actors as actor_stats
from reclaim.intel import lineage
from reclaim.intel.lineage_score import assemble
from reclaim.intel.text import title_similarity
from reclaim.settings import load_settings
from reclaim.workspace import open_store

THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


def pairs_of(groups: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for g in groups for x, a in enumerate(g) for b in g[x + 1 :]}


def scores(pred: set[frozenset[str]], truth: set[frozenset[str]]) -> tuple[float, float]:
    tp = len(pred & truth)
    return tp / max(1, len(pred)), tp / max(1, len(truth))


def quality(args: argparse.Namespace) -> None:
    from reclaim.intel.synthetic import write_world
    from reclaim.rooms.telegram_ingest import ingest_export
    from reclaim.sources.telegram_export import TelegramExport

    os.environ["RECLAIM_SSCD"] = "off"
    totals: dict[str, list[tuple[float, float, float]]] = {}
    base = Path(tempfile.mkdtemp(prefix="reclaim-intel-q-"))
    for seed in range(args.worlds):
        world = write_world(
            base / f"w{seed}",
            seed=100 + seed,
            lineages=args.lineages,
            decoys=args.decoys,
            carry=(args.carry_min, args.carry_max),
            clues=args.clues,
        )
        settings = load_settings(base / f"h{seed}")
        store = open_store(settings)
        t = time.perf_counter()
        ingest_export(store, TelegramExport(world.root), settings, None)
        ingest_s = time.perf_counter() - t
        with store.transaction() as session:
            t = time.perf_counter()
            result = lineage.compute(session)
            lineage_s = time.perf_counter() - t
        store.close()
        truth = world.same_lineage()
        rooms = result.inp.rooms
        for thr in THRESHOLDS:
            lins = assemble(result.inp, result.links, thr)
            pred = pairs_of([[rooms[x].platform_id for x in lin.rooms] for lin in lins])
            links = [
                frozenset((rooms[lk.src].platform_id, rooms[lk.dst].platform_id)) for lin in lins for lk in lin.links
            ]
            p, r = scores(pred, truth)
            lp = sum(1 for lk in links if lk in truth) / max(1, len(links))
            totals.setdefault(f"lineage @ {thr}", []).append((p, r, lp))
        # Baseline: titles alone.
        groups: dict[int, int] = {x: x for x in range(len(rooms))}

        def find(x: int, groups: dict[int, int] = groups) -> int:
            while groups[x] != x:
                x = groups[x]
            return x

        for a in range(len(rooms)):
            for b in range(a + 1, len(rooms)):
                best = max((title_similarity(ta, tb) for ta in rooms[a].titles for tb in rooms[b].titles), default=0.0)
                if best >= 0.5:
                    groups[find(a)] = find(b)
        clusters: dict[int, list[str]] = {}
        for x in range(len(rooms)):
            clusters.setdefault(find(x), []).append(rooms[x].platform_id)
        p, r = scores(pairs_of(list(clusters.values())), truth)
        totals.setdefault("baseline: titles >= 0.5", []).append((p, r, float("nan")))
        print(
            f"world {seed}: {len(rooms)} rooms ({len(world.lineages)} lineages, {args.decoys} decoys), "
            f"{world.messages:,} messages; ingest {ingest_s:.1f} s, lineage {lineage_s:.2f} s"
        )
    print(
        f"\n{'method':28} {'pair precision':>15} {'pair recall':>12} {'link precision':>15}   (mean, min over worlds)"
    )
    for name, rows in totals.items():
        arr = np.asarray(rows)
        print(
            f"{name:28} {arr[:, 0].mean():8.3f} ({arr[:, 0].min():.3f}) {arr[:, 1].mean():6.3f} ({arr[:, 1].min():.3f})"
            f" {np.nanmean(arr[:, 2]) if not np.isnan(arr[:, 2]).all() else float('nan'):8.3f}"
        )
    shutil.rmtree(base, ignore_errors=True)


def institutions(args: argparse.Namespace) -> None:
    from reclaim.intel.institutions_text import KiwiCheck, find_institutions
    from reclaim.intel.synthetic import INSTITUTION_SAMPLES

    methods: list[tuple[str, object]] = [("rules (regex, stop words)", None)]
    if KiwiCheck.available():
        t = time.perf_counter()
        kiwi = KiwiCheck()
        print(f"Kiwi loaded in {time.perf_counter() - t:.1f} s")
        methods.append(("rules + Kiwi veto", kiwi.is_ending))
    else:
        print("kiwipiepy is not installed: only the rules are measured")
    print(f"{len(INSTITUTION_SAMPLES)} labelled lines, {sum(len(e) for _, e in INSTITUTION_SAMPLES)} institutions")
    print(f"{'method':28} {'precision':>9} {'recall':>7} {'false positives'}")
    for name, check in methods:
        tp = fp = fn = 0
        wrong: list[str] = []
        for line, expected in INSTITUTION_SAMPLES:
            got = {m.canonical for m in find_institutions(line, check)}  # type: ignore[arg-type]
            tp += len(got & set(expected))
            fp += len(got - set(expected))
            fn += len(set(expected) - got)
            wrong += sorted(got - set(expected))
        print(f"{name:28} {tp / max(1, tp + fp):9.3f} {tp / max(1, tp + fn):7.3f} {', '.join(wrong)}")


def seed_db(url_home: Path, n_rooms: int, n_messages: int, n_actors: int, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """Bulk-insert a world straight into the tables; returns the store and the true lineages."""
    settings = load_settings(url_home)
    store = open_store(settings)
    t0 = 1_700_000_000
    n_lineage_rooms = int(n_rooms * 0.75)
    rooms: list[tuple[int, str, int, int, np.ndarray, int | None]] = []  # id, title, start, end, members, lineage
    truth: list[list[str]] = []
    pools = max(1, n_rooms // 40)
    pool_size = n_actors // pools
    size_mean = max(20, int(n_actors * 2.3 / n_rooms))
    lin = 0
    while len(rooms) < n_lineage_rooms:
        pool = rng.integers(0, pools)
        start = t0 + int(rng.integers(0, 300)) * 86_400
        prev: np.ndarray | None = None
        chain: list[str] = []
        base = f"학교{lin}방"
        for gen in range(int(rng.integers(2, 5))):
            life = int(rng.integers(20, 90)) * 86_400
            size = max(10, int(rng.normal(size_mean, size_mean / 3)))
            members = rng.choice(pool_size, size, replace=False) + pool * pool_size
            if prev is not None:
                carry = rng.choice(prev, max(3, int(len(prev) * rng.uniform(0.2, 0.7))), replace=False)
                members = np.unique(np.concatenate([carry, members[: size // 2]]))
            rid = len(rooms) + 1
            title = base if gen == 0 else f"{base} {gen + 1}호"
            rooms.append((rid, title, start, start + life, members, lin))
            chain.append(f"-100{10**9 + rid}")
            prev, start = members, start + life + int(rng.integers(0, 5 * 86_400))
        truth.append(chain)
        lin += 1
    while len(rooms) < n_rooms:
        pool = rng.integers(0, pools)
        size = max(10, int(rng.normal(size_mean, size_mean / 3)))
        members = rng.choice(pool_size, size, replace=False) + pool * pool_size
        start = t0 + int(rng.integers(0, 300)) * 86_400
        rooms.append((len(rooms) + 1, f"학교{rng.integers(0, lin)}방 친구", start, start + 60 * 86_400, members, None))
    per_room = max(1, n_messages // len(rooms))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO room (id, platform, platform_id, name, created_at) VALUES (?, 'telegram', ?, ?, ?)",
            [(rid, f"-100{10**9 + rid}", title, now) for rid, title, *_ in rooms],
        )
        conn.exec_driver_sql(
            "INSERT INTO room_info (room_id, room_type, bare_id, username, updated_at)"
            " VALUES (?, 'private_supergroup', ?, NULL, ?)",
            [(rid, 10**9 + rid, now) for rid, *_ in rooms],
        )
        conn.exec_driver_sql(
            "INSERT INTO room_title (room_id, title, since, message_id, action) VALUES (?, ?, NULL, NULL, NULL)",
            [(rid, title) for rid, title, *_ in rooms],
        )
        conn.exec_driver_sql(
            "INSERT INTO actor (id, platform, platform_id, username, is_bot, first_seen_at)"
            " VALUES (?, 'telegram', ?, NULL, 0, ?)",
            [(a + 1, f"user{a + 1}", now) for a in range(n_actors)],
        )
        rows = []
        mid = 0
        for rid, _title, start, end, members, _lin in rooms:
            senders = rng.choice(members, per_room)
            times = np.sort(rng.integers(start, end, per_room))
            for k in range(per_room):
                mid += 1
                at = datetime.fromtimestamp(int(times[k]), UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                rows.append((mid, rid, k + 1, int(senders[k]) + 1, at, now))
            if len(rows) >= 200_000:
                _insert_messages(conn, rows)
                rows = []
        _insert_messages(conn, rows)
    return store, truth, mid


def _insert_messages(conn, rows) -> None:  # type: ignore[no-untyped-def]
    if not rows:
        return
    conn.exec_driver_sql(
        "INSERT INTO message (id, room_id, message_id, kind, actor_id, posted_at, text, entities, members, reactions,"
        " extra, recorded_at) VALUES (?, ?, ?, 'message', ?, ?, '', '[]', '[]', '[]', '{}', ?)",
        rows,
    )


def scale(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(7)
    home = Path(tempfile.mkdtemp(prefix="reclaim-intel-s-"))
    t = time.perf_counter()
    store, truth, n_messages = seed_db(home, args.rooms, args.messages, args.actors, rng)
    seed_s = time.perf_counter() - t
    timings: list[tuple[str, float, str]] = []
    with store.transaction() as session:
        t = time.perf_counter()
        n_pairs = len(session.execute(text("SELECT DISTINCT room_id, actor_id FROM message")).all())
        timings.append(("baseline: SELECT DISTINCT room, actor", time.perf_counter() - t, f"{n_pairs:,} memberships"))
        t = time.perf_counter()
        result = lineage.compute(session)
        lin_s = time.perf_counter() - t
        rooms = result.inp.rooms
        pred = pairs_of([[rooms[x].platform_id for x in lin.rooms] for lin in result.lineages])
        p, r = scores(pred, pairs_of(truth))
        timings.append(
            ("lineage (load, score, assemble)", lin_s, f"{len(result.links):,} scored pairs; P {p:.3f} R {r:.3f}")
        )
        t = time.perf_counter()
        sketched = lineage.compute(session, method="minhash")
        sk_s = time.perf_counter() - t
        pred = pairs_of([[rooms[x].platform_id for x in lin.rooms] for lin in sketched.lineages])
        p, r = scores(pred, pairs_of(truth))
        timings.append(("lineage, MinHash/LSH actor overlap", sk_s, f"(alternative) P {p:.3f} R {r:.3f}"))
        t = time.perf_counter()
        doc = actor_stats.actor_stats(session)
        timings.append(
            (
                "actors stats (all rooms)",
                time.perf_counter() - t,
                f"{doc['distinct_actors']:,} distinct; HLL {doc['estimate']['distinct_actors']:,}",
            )
        )
        t = time.perf_counter()
        exact = session.execute(text("SELECT COUNT(DISTINCT actor_id) FROM message")).scalar()
        timings.append(("exact COUNT DISTINCT in SQL", time.perf_counter() - t, f"{exact:,}"))
    store.close()
    print(
        f"seeded {args.rooms:,} rooms, {n_messages:,} messages, {args.actors:,} actors in {seed_s:.1f} s"
        " (not timed below)"
    )
    print(f"\n{'step':40} {'seconds':>8}  notes")
    for name, secs, note in timings:
        print(f"{name:40} {secs:8.2f}  {note}")
    total = sum(s for name, s, _ in timings if name.startswith(("lineage (", "actors stats")))
    print(f"{'lineage + actors stats':40} {total:8.2f}  goal <= 120 s")
    shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--worlds", type=int, default=5)
    q.add_argument("--lineages", type=int, default=8)
    q.add_argument("--decoys", type=int, default=30)
    q.add_argument("--carry-min", type=float, default=0.2)
    q.add_argument("--carry-max", type=float, default=0.7)
    q.add_argument("--clues", type=float, default=1.0, help="scale the chance of explicit clues (0: none)")
    sub.add_parser("institutions")
    s = sub.add_parser("scale")
    s.add_argument("--rooms", type=int, default=1000)
    s.add_argument("--messages", type=int, default=1_000_000)
    s.add_argument("--actors", type=int, default=300_000)
    args = parser.parse_args()
    {"quality": quality, "scale": scale, "institutions": institutions}[args.mode](args)


if __name__ == "__main__":
    main()
