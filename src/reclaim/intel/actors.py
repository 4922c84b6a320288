"""`reclaim actors stats`: unique accounts across rooms, how rooms overlap, and who is everywhere.

Counts are exact (distinct actor ids); a HyperLogLog estimate is reported beside them with its error, the number a
sketch-based count gives when ids cannot be held (merged per-room sketches). Reported member counts
(`participants_count`) are set against the accounts actually seen posting, because Telegram does not list every
member of a large group or channel: silent members are invisible in an export, so observed senders are a floor.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from reclaim.intel import load
from reclaim.intel.sketch import HyperLogLog
from reclaim.rooms.listings import room_by_platform_id
from reclaim.store.room_tables import Actor, ActorName, MediaLink, Message, MessageMedia
from reclaim.store.tables import Room

MATRIX_ROOMS = 25  # rooms in the overlap matrix when none are named (the largest by senders)
NOTE = (
    "Telegram does not list all members: exports and the API show accounts that posted (and some joins); members "
    "who never posted are invisible. Observed senders are a lower bound on membership; participants_count is "
    "what Telegram reported at the time of a snapshot."
)


def actor_stats(session: Session, rooms: list[str] | None = None, top: int = 20) -> dict[str, Any]:
    all_rooms = {rid: pid for rid, pid in session.execute(select(Room.id, Room.platform_id))}
    active = set(session.scalars(select(Message.room_id).distinct()))
    # Default: every room with messages (folders given to `ingest folder` have none).
    chosen = [room_by_platform_id(session, r).id for r in dict.fromkeys(rooms)] if rooms else sorted(active)
    index = {rid: x for x, rid in enumerate(chosen)}
    room_idx, actor_ids = load.memberships(session, index, bots=False)
    exact = len(np.unique(actor_ids))
    per_room_hll: list[HyperLogLog] = []
    union = HyperLogLog()
    order = np.argsort(room_idx, kind="stable")
    bounds = np.searchsorted(room_idx[order], np.arange(len(chosen) + 1))
    senders = np.diff(bounds)
    for x in range(len(chosen)):
        sketch = HyperLogLog()
        sketch.add(actor_ids[order[bounds[x] : bounds[x + 1]]])
        per_room_hll.append(sketch)
        union = union.merge(sketch)
    messages = dict(
        session.execute(
            select(Message.room_id, func.count()).where(Message.room_id.in_(chosen)).group_by(Message.room_id)
        ).all()
    )
    snapshots = load.latest_participants(session)
    per_room = []
    for x, rid in enumerate(chosen):
        snaps = snapshots.get(rid, [])
        latest = snaps[-1][1] if snaps else None
        per_room.append(
            {
                "id": all_rooms[rid],
                "messages": int(messages.get(rid, 0)),
                "distinct_senders": int(senders[x]),
                "participants_count": latest,
                "observed_share": round(int(senders[x]) / latest, 4) if latest else None,
                "over_time": _over_time(session, rid, snaps),
            }
        )
    return {
        "rooms": [all_rooms[r] for r in chosen],
        "distinct_actors": exact,
        "estimate": {
            "method": "hyperloglog",
            "registers": union.m,
            "distinct_actors": union.estimate(),
            "relative_standard_error": round(union.relative_error, 4),
        },
        "per_room": per_room,
        "overlap": _overlap(chosen, all_rooms, room_idx, actor_ids, senders),
        "top_actors": {
            "by_rooms": _by_rooms(session, room_idx, actor_ids, top),
            "by_media": _by_media(session, chosen, top),
            "by_bot_requests": _by_bot_requests(session, chosen, top),
        },
        "note": NOTE,
    }


def _over_time(session: Session, room_id: int, snaps: list[tuple[float | None, int]]) -> list[dict[str, Any]]:
    """Each reported member count beside the accounts seen posting up to that moment (last 50 snapshots)."""
    out = []
    for taken, n in snaps[-50:]:
        stmt = select(func.count(func.distinct(Message.actor_id))).where(Message.room_id == room_id)
        if taken is not None:
            stmt = stmt.where(Message.posted_at <= datetime.fromtimestamp(taken, UTC))
        seen = int(session.scalar(stmt) or 0)
        out.append(
            {
                "at": load.iso_unix(taken),
                "participants_count": n,
                "observed_senders": seen,
                "observed_share": round(seen / n, 4) if n else None,
            }
        )
    return out


def _overlap(
    chosen: list[int],
    names: dict[int, str],
    room_idx: np.ndarray,
    actor_ids: np.ndarray,
    senders: np.ndarray,
) -> dict[str, Any]:
    """Shared accounts between every two rooms shown (the named rooms, else the largest)."""
    shown = np.argsort(-senders, kind="stable")[:MATRIX_ROOMS] if len(chosen) > MATRIX_ROOMS else np.arange(len(chosen))
    shown = np.sort(shown)
    if len(actor_ids) == 0 or len(shown) == 0:
        return {"rooms": [names[chosen[x]] for x in shown], "shared_actors": [[0] * len(shown) for _ in shown]}
    _, cols = np.unique(actor_ids, return_inverse=True)
    m = sparse.csr_matrix((np.ones(len(room_idx)), (room_idx, cols.reshape(-1))), shape=(len(chosen), cols.max() + 1))
    m.data[:] = 1
    sub = m[shown]
    inter = (sub @ sub.T).toarray().astype(int)
    return {"rooms": [names[chosen[x]] for x in shown], "shared_actors": inter.tolist()}


def _describe(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not ids:
        return out
    for a in session.scalars(select(Actor).where(Actor.id.in_(ids))):
        out[a.id] = {"id": a.platform_id, "username": a.username, "is_bot": a.is_bot, "names": []}
    for actor_id, name in session.execute(
        select(ActorName.actor_id, ActorName.name)
        .where(ActorName.actor_id.in_(ids))
        .order_by(ActorName.actor_id, ActorName.first_seen, ActorName.id)
    ):
        out[actor_id]["names"].append(name)
    return out


def _by_rooms(session: Session, room_idx: np.ndarray, actor_ids: np.ndarray, top: int) -> list[dict[str, Any]]:
    if len(actor_ids) == 0:
        return []
    ids, counts = np.unique(actor_ids, return_counts=True)
    best = np.argsort(-counts, kind="stable")[:top]
    chosen = [int(ids[x]) for x in best]
    info = _describe(session, chosen)
    return [info[a] | {"rooms": int(counts[x])} for a, x in zip(chosen, best, strict=True)]


def _by_media(session: Session, rooms: list[int], top: int) -> list[dict[str, Any]]:
    stmt = (
        select(Message.actor_id, func.count(MessageMedia.media_id).label("n"))
        .join(MessageMedia, (MessageMedia.room_id == Message.room_id) & (MessageMedia.message_id == Message.message_id))
        .where(MessageMedia.status == "hashed", Message.actor_id.is_not(None), Message.room_id.in_(rooms))
        .group_by(Message.actor_id)
        .order_by(func.count(MessageMedia.media_id).desc(), Message.actor_id)
        .limit(top)
    )
    rows = [(int(a), int(n)) for a, n in session.execute(stmt) if a is not None]
    info = _describe(session, [a for a, _ in rows])
    return [info[a] | {"media": n} for a, n in rows]


def _by_bot_requests(session: Session, rooms: list[int], top: int) -> list[dict[str, Any]]:
    """Photos a bot answered (request → output links whose output a bot posted) and messages sent via inline bots."""
    src, out, bot = aliased(Message), aliased(Message), aliased(Actor)
    answered = (
        select(src.actor_id, func.count())
        .select_from(MediaLink)
        .join(src, (src.room_id == MediaLink.room_id) & (src.message_id == MediaLink.source_message_id))
        .join(out, (out.room_id == MediaLink.room_id) & (out.message_id == MediaLink.message_id))
        .outerjoin(bot, bot.id == out.actor_id)
        .where(MediaLink.room_id.in_(rooms), src.actor_id.is_not(None))
        .where((bot.is_bot.is_(True)) | (out.via_bot.is_not(None)))
        .group_by(src.actor_id)
    )
    inline = (
        select(Message.actor_id, func.count())
        .where(Message.via_bot.is_not(None), Message.actor_id.is_not(None), Message.room_id.in_(rooms))
        .group_by(Message.actor_id)
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for a, n in session.execute(answered):
        if a is not None:
            counts[int(a)][0] += int(n)
    for a, n in session.execute(inline):
        if a is not None:
            counts[int(a)][1] += int(n)
    ranked = sorted(counts.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))[:top]
    info = _describe(session, [a for a, _ in ranked])
    return [
        info[a] | {"bot_requests": n[0] + n[1], "answered_by_bot": n[0], "via_inline_bot": n[1]}
        for a, n in ranked
        if not info[a]["is_bot"]
    ]
