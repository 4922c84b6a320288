"""Which rooms are one room deleted and recreated: pairwise evidence, a score, and lineages built from links.

Pure (numpy/scipy, no database), so it runs in a CLI process or a Ray task. Each pair of rooms is scored in
log-odds: every kind of evidence adds a term and the evidence dictionary records each term, so an investigator
sees why two rooms were joined and by how much each fact counted:

- actors in common (containment in the smaller room, counted only from 3 shared accounts: a few shared men are
  what unrelated rooms in the same scene have anyway); bots are excluded here and counted separately;
- media re-posted in both (same SHA-256, or the same exact PDQ hash after re-encoding);
- title similarity after removing generation markers ("v2", "2호", "백업");
- pointers: a message in one room linking the other (t.me/name, t.me/c/id), forwarding its posts, or both
  rooms posting the same invite link; saying "we moved" makes it stronger;
- time: one room's activity ends as the other's begins (long parallel activity counts against);
- shared bots (weak: popular bots serve many rooms);
- a `migrate_to_supergroup` / `migrate_from_group` pair with the same title at the same time (decisive).

Lineages: every room keeps its best-scoring earlier room above the threshold as its predecessor; connected rooms
form a lineage, ordered by first activity.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]

from reclaim.intel.sketch import MinHash
from reclaim.intel.text import bigrams, normalise_title, title_similarity

DAY = 86_400.0
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Weights:
    """Log-odds terms; `threshold` is calibrated on synthetic worlds (bench/intel.py quality)."""

    prior: float = -7.0
    actors: float = 14.0  # times containment, from `min_shared_actors` shared accounts
    actors_cap: float = 9.0
    min_shared_actors: int = 3
    media: float = 8.0  # times media containment, from 2 shared items
    media_cap: float = 6.0
    media_single: float = 0.5
    title: float = 4.0  # times (similarity - title_floor) / (1 - title_floor)
    title_floor: float = 0.3
    pointer_moved: float = 6.0
    pointer: float = 2.5
    forwards: float = 3.0  # from 3 forwarded posts; 1.5 below
    shared_invite_moved: float = 5.0
    shared_invite: float = 1.5
    adjacent: float = 2.0  # the later room starts within `adjacent_days` of the earlier one's end
    adjacent_days: float = 14.0
    near: float = 1.0  # within `near_days`
    near_days: float = 60.0
    parallel: float = -3.0  # both active together for more than `parallel_days`
    parallel_days: float = 30.0
    bot: float = 0.5
    bots_cap: float = 1.0
    migration: float = 15.0
    threshold: float = 0.5


@dataclass(frozen=True, slots=True)
class RoomProfile:
    """A room as lineage needs it; times are unix seconds (UTC)."""

    platform_id: str
    titles: tuple[str, ...]
    first: float | None = None
    last: float | None = None
    messages: int = 0
    room_type: str = ""
    username: str | None = None
    bare_id: int | None = None


@dataclass(frozen=True, slots=True)
class Pointer:
    """A message in room `room` (an index) that points outside it: `target` is user:NAME, cid:ID or invite:HASH."""

    room: int
    message_id: int
    kind: str  # link, forward, invite
    target: str
    moved: bool
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Migration:
    """A basic group's upgrade as each side records it."""

    room: int
    action: str  # migrate_to_supergroup (the old group) or migrate_from_group (the new supergroup)
    at: float | None
    title: str | None


@dataclass
class LineageInput:
    """Everything scoring reads. Pair arrays are (room index, key) memberships; duplicates are harmless."""

    rooms: list[RoomProfile]
    actors: tuple[IntArray, IntArray]
    media: tuple[IntArray, IntArray]
    bots: tuple[IntArray, IntArray] = field(default_factory=lambda: (_empty(), _empty()))
    bot_names: dict[int, str] = field(default_factory=dict)
    pointers: list[Pointer] = field(default_factory=list)
    migrations: list[Migration] = field(default_factory=list)
    # When set, actor overlap is estimated from these MinHash signatures and `actors` is not read.
    actor_sketch: MinHash | None = None


@dataclass
class Link:
    """`src` (earlier) → `dst` (later) with the score and the evidence behind it."""

    src: int
    dst: int
    score: float
    evidence: dict[str, Any]


@dataclass
class Lineage:
    rooms: list[int]
    links: list[Link]


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def iso(unix: float | None) -> str | None:
    if unix is None or math.isnan(unix):
        return None
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


class _PairCounts:
    """Shared keys between every two rooms, as a sorted (pair key → count) table; sizes per room."""

    def __init__(self, rows: IntArray, cols: IntArray, n: int) -> None:
        self.n = n
        if len(rows) == 0:
            self.sizes = np.zeros(n, dtype=np.int64)
            self.keys, self.counts = _empty(), _empty()
            return
        _, inv = np.unique(cols, return_inverse=True)
        m = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.int64), (rows, inv.reshape(-1))), shape=(n, int(inv.max()) + 1)
        )
        m.sum_duplicates()
        m.data[:] = 1
        self.sizes = np.asarray(m.sum(axis=1)).reshape(-1).astype(np.int64)
        inter = sparse.triu(m @ m.T, k=1).tocoo()
        keys = inter.row.astype(np.int64) * n + inter.col.astype(np.int64)
        order = np.argsort(keys)
        self.keys, self.counts = keys[order], inter.data.astype(np.int64)[order]

    def pairs(self, minimum: int) -> IntArray:
        return self.keys[self.counts >= minimum]

    def lookup(self, keys: IntArray) -> IntArray:
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=np.int64)
        pos = np.clip(np.searchsorted(self.keys, keys), 0, len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, self.counts[pos], 0)


class _SketchCounts(_PairCounts):
    """Shared members estimated from MinHash signatures, for LSH candidate pairs only."""

    def __init__(self, sketch: MinHash, n: int) -> None:
        # Fills the fields _PairCounts.__init__ would, from the sketch instead of member ids.
        self.n = n
        self.sizes = sketch.sizes.astype(np.int64)
        keys = sketch.candidates()
        shared = sketch.shared(keys // n, keys % n) if len(keys) else _empty()
        keep = shared > 0
        self.keys, self.counts = keys[keep], shared[keep]


def _title_pairs(rooms: list[RoomProfile]) -> _PairCounts:
    rows: list[int] = []
    cols: list[int] = []
    vocab: dict[str, int] = {}
    for i, r in enumerate(rooms):
        grams: set[str] = set()
        for t in r.titles:
            grams |= bigrams(t)
        for g in grams:
            rows.append(i)
            cols.append(vocab.setdefault(g, len(vocab)))
    return _PairCounts(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), len(rooms))


def score_pairs(inp: LineageInput, w: Weights = Weights(), keep: float = 0.05) -> list[Link]:
    """Every pair of rooms with any evidence, scored; those scoring at least `keep` come back with evidence."""
    n = len(inp.rooms)
    if n < 2:
        return []
    actors = _PairCounts(*inp.actors, n) if inp.actor_sketch is None else _SketchCounts(inp.actor_sketch, n)
    media = _PairCounts(*inp.media, n)
    titles = _title_pairs(inp.rooms)
    bots = _PairCounts(*inp.bots, n)
    pointer_ev, migration_ev = _pointer_evidence(inp), _migration_evidence(inp)
    title_j = titles.counts / np.maximum(
        1, titles.sizes[titles.keys // n] + titles.sizes[titles.keys % n] - titles.counts
    )
    candidates = np.unique(
        np.concatenate(
            [
                actors.pairs(w.min_shared_actors),
                media.pairs(1),
                titles.keys[title_j >= w.title_floor],
                np.asarray([_key(a, b, n) for a, b in pointer_ev], dtype=np.int64),
                np.asarray([_key(a, b, n) for a, b in migration_ev], dtype=np.int64),
            ]
        )
    )
    if len(candidates) == 0:
        return []
    i, j = candidates // n, candidates % n
    first = np.asarray([np.nan if r.first is None else r.first for r in inp.rooms])
    last = np.asarray([np.nan if r.last is None else r.last for r in inp.rooms])
    # Orient each pair earlier → later by first activity (unknown times keep index order).
    swap = np.nan_to_num(first[i], nan=0.0) > np.nan_to_num(first[j], nan=0.0)
    src, dst = np.where(swap, j, i), np.where(swap, i, j)

    shared_a = actors.lookup(candidates)
    small_a = np.maximum(1, np.minimum(actors.sizes[i], actors.sizes[j]))
    cont_a = shared_a / small_a
    lo_a = np.where(shared_a >= w.min_shared_actors, np.minimum(w.actors_cap, w.actors * cont_a), 0.0)

    shared_m = media.lookup(candidates)
    cont_m = shared_m / np.maximum(1, np.minimum(media.sizes[i], media.sizes[j]))
    lo_m = np.where(
        shared_m >= 2, np.minimum(w.media_cap, w.media * cont_m), np.where(shared_m == 1, w.media_single, 0)
    )

    shared_t = titles.lookup(candidates)
    tj = shared_t / np.maximum(1, titles.sizes[i] + titles.sizes[j] - shared_t)
    lo_t = np.where(tj >= w.title_floor, w.title * (tj - w.title_floor) / (1 - w.title_floor), 0.0)

    gap = (first[dst] - last[src]) / DAY
    together = (np.minimum(last[src], last[dst]) - first[dst]) / DAY
    known = ~np.isnan(gap)
    lo_time = np.where(
        known & (gap >= -2) & (gap <= w.adjacent_days),
        w.adjacent,
        np.where(known & (gap > w.adjacent_days) & (gap <= w.near_days), w.near, 0.0),
    )
    lo_time = np.where(known & (together > w.parallel_days), w.parallel, lo_time)

    shared_b = bots.lookup(candidates)
    lo_b = np.minimum(w.bots_cap, w.bot * shared_b)

    total = w.prior + lo_a + lo_m + lo_t + lo_time + lo_b
    index = {int(k): x for x, k in enumerate(candidates)}
    extra_lo = np.zeros(len(candidates))
    for (a, b), docs in pointer_ev.items():
        extra_lo[index[_key(a, b, n)]] += _pointer_log_odds(docs, w)
    for (a, b), _ev in migration_ev.items():
        extra_lo[index[_key(a, b, n)]] += w.migration
    total = total + extra_lo

    links: list[Link] = []
    for x in np.flatnonzero(1.0 / (1.0 + np.exp(-np.clip(total, -50, 50))) >= keep):
        s, d = int(src[x]), int(dst[x])
        a, b = min(s, d), max(s, d)
        ev: dict[str, Any] = {}
        reasons: list[str] = []
        if shared_a[x]:
            ev["actors"] = {
                "shared": int(shared_a[x]),
                "from_actors": int(actors.sizes[s]),
                "to_actors": int(actors.sizes[d]),
                "containment": round(float(cont_a[x]), 4),
                "jaccard": round(float(shared_a[x] / max(1, actors.sizes[s] + actors.sizes[d] - shared_a[x])), 4),
                "log_odds": round(float(lo_a[x]), 3),
                "method": "exact" if inp.actor_sketch is None else "minhash estimate",
            }
            reasons.append(f"{int(shared_a[x])} accounts in common ({cont_a[x]:.0%} of the smaller room)")
        if shared_m[x]:
            ev["media"] = {
                "shared": int(shared_m[x]),
                "containment": round(float(cont_m[x]), 4),
                "log_odds": round(float(lo_m[x]), 3),
            }
            reasons.append(f"{int(shared_m[x])} media items posted in both")
        if shared_t[x]:
            ft, tt, sim = _best_titles(inp.rooms[s], inp.rooms[d])
            ev["title"] = {
                "from": ft,
                "to": tt,
                "normalised": [normalise_title(ft), normalise_title(tt)],
                "similarity": round(sim, 4),
                "log_odds": round(float(lo_t[x]), 3),
            }
            if lo_t[x] > 0:
                reasons.append(f"similar titles '{ft}' → '{tt}'")
        if known[x]:
            ev["time"] = {
                "from_last_message": iso(last[s]),
                "to_first_message": iso(first[d]),
                "gap_days": round(float(gap[x]), 2),
                "log_odds": round(float(lo_time[x]), 3),
            }
            if lo_time[x] > 0:
                reasons.append(f"the later room starts {gap[x]:.1f} days after the earlier one's last message")
            elif lo_time[x] < 0:
                reasons.append(f"both rooms were active together for {together[x]:.0f} days")
        if shared_b[x]:
            ev["bots"] = {"shared": int(shared_b[x]), "log_odds": round(float(lo_b[x]), 3)}
        if (a, b) in pointer_ev:
            docs = pointer_ev[(a, b)]
            ev["pointers"] = {"messages": docs, "log_odds": round(_pointer_log_odds(docs, w), 3)}
            moved = any(p.get("moved") for p in docs)
            many = len(docs) > 1
            reasons.append(
                f"{len(docs)} message{'s point' if many else ' points'} from one room to the other"
                + (f" and {'say' if many else 'says'} it moved" if moved else "")
            )
        if (a, b) in migration_ev:
            ev["migration"] = migration_ev[(a, b)] | {"log_odds": w.migration}
            reasons.append("a basic group upgraded to this supergroup (migrate_to_supergroup / migrate_from_group)")
        ev["prior"] = w.prior
        ev["log_odds_total"] = round(float(total[x]), 3)
        ev["reasons"] = reasons
        links.append(Link(s, d, round(sigmoid(float(total[x])), 4), ev))
    return links


def _key(a: int, b: int, n: int) -> int:
    return min(a, b) * n + max(a, b)


def _best_titles(a: RoomProfile, b: RoomProfile) -> tuple[str, str, float]:
    best = ("", "", -1.0)
    for ta in a.titles or ("",):
        for tb in b.titles or ("",):
            sim = title_similarity(ta, tb)
            if sim > best[2]:
                best = (ta, tb, sim)
    return best[0], best[1], max(0.0, best[2])


def _pointer_log_odds(ev: list[dict[str, Any]], w: Weights) -> float:
    lo = 0.0
    links = [p for p in ev if p["kind"] == "link"]
    if links:
        lo += w.pointer_moved if any(p["moved"] for p in links) else w.pointer
    forwards = [p for p in ev if p["kind"] == "forward"]
    if forwards:
        lo += w.forwards if len(forwards) >= 3 else w.forwards / 2
    invites = [p for p in ev if p["kind"] == "shared_invite"]
    if invites:
        lo += w.shared_invite_moved if any(p["moved"] for p in invites) else w.shared_invite
    return lo


MAX_POINTERS = 20  # evidence items kept per pair (the count is in the reasons)
MAX_INVITE_ROOMS = 4  # an invite posted in more rooms than this is an advert, not a move


def _pointer_evidence(inp: LineageInput) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Pointers resolved to rooms: usernames and channel ids to the room that has them; invites co-posted."""
    by_user = {r.username.lower(): i for i, r in enumerate(inp.rooms) if r.username}
    by_cid = {r.bare_id: i for i, r in enumerate(inp.rooms) if r.bare_id is not None}
    out: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    invites: dict[str, list[Pointer]] = defaultdict(list)
    for p in inp.pointers:
        kind, _, value = p.target.partition(":")
        target: int | None = None
        if kind == "user":
            target = by_user.get(value.lower())
        elif kind == "cid" and value.isdigit():
            target = by_cid.get(int(value))
        elif kind == "invite":
            invites[value].append(p)
            continue
        if target is None or target == p.room:
            continue
        pair = (min(p.room, target), max(p.room, target))
        if len(out[pair]) < MAX_POINTERS:
            out[pair].append(_pointer_doc(inp, p, p.kind))
    for value, ps in invites.items():
        rooms = sorted({p.room for p in ps})
        if len(rooms) < 2 or len(rooms) > MAX_INVITE_ROOMS:
            continue
        for x, a in enumerate(rooms):
            for b in rooms[x + 1 :]:
                pair = (a, b)
                for p in ps:
                    if p.room in pair and len(out[pair]) < MAX_POINTERS:
                        out[pair].append(_pointer_doc(inp, p, "shared_invite") | {"invite": value})
    return dict(out)


def _pointer_doc(inp: LineageInput, p: Pointer, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "room": inp.rooms[p.room].platform_id,
        "message_id": p.message_id,
        "target": p.target,
        "moved": p.moved,
        "excerpt": p.excerpt,
    }


MIGRATION_WINDOW_S = 2 * DAY


def _migration_evidence(inp: LineageInput) -> dict[tuple[int, int], dict[str, Any]]:
    """An old group's `migrate_to_supergroup` and a supergroup's `migrate_from_group` with its title, near in time."""
    old = [m for m in inp.migrations if m.action == "migrate_to_supergroup"]
    new = [m for m in inp.migrations if m.action == "migrate_from_group"]
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for n in new:
        for o in old:
            if o.room == n.room:
                continue
            same_title = bool(n.title) and n.title in inp.rooms[o.room].titles
            close = o.at is not None and n.at is not None and abs(o.at - n.at) <= MIGRATION_WINDOW_S
            if same_title and close:
                out[(min(o.room, n.room), max(o.room, n.room))] = {
                    "old_group": inp.rooms[o.room].platform_id,
                    "supergroup": inp.rooms[n.room].platform_id,
                    "title": n.title,
                    "old_group_migrated_at": iso(o.at),
                    "supergroup_migrated_from_at": iso(n.at),
                }
    return out


def assemble(inp: LineageInput, links: list[Link], threshold: float) -> list[Lineage]:
    """Each room's best earlier room above `threshold` is its predecessor; linked rooms form a lineage."""
    best: dict[int, Link] = {}
    for link in links:
        if link.score < threshold:
            continue
        held = best.get(link.dst)
        if held is None or link.score > held.score:
            best[link.dst] = link
    parent = list(range(len(inp.rooms)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in best.values():
        parent[find(link.src)] = find(link.dst)
    groups: dict[int, list[int]] = defaultdict(list)
    for x in range(len(inp.rooms)):
        groups[find(x)].append(x)
    lineages = []
    for members in groups.values():
        order = sorted(members, key=lambda x: (_first(inp.rooms[x]), inp.rooms[x].platform_id))
        rank = {x: k for k, x in enumerate(order)}
        chosen = sorted((best[x] for x in members if x in best), key=lambda lk: (rank[lk.dst], rank[lk.src]))
        lineages.append(Lineage(order, chosen))
    lineages.sort(key=lambda lin: (_first(inp.rooms[lin.rooms[0]]), inp.rooms[lin.rooms[0]].platform_id))
    return lineages


def _first(r: RoomProfile) -> float:
    return r.first if r.first is not None else math.inf
