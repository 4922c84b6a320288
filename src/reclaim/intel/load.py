"""Reading what intel needs from the store in a few set-based queries (no per-room or per-message loops in SQL).

Everything here is read-only and runs inside the caller's transaction. Results are plain values (numpy arrays of
ids, dataclasses) that the pure scoring code consumes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import String, cast, distinct, func, or_, select
from sqlalchemy.orm import Session

from reclaim.intel.lineage_score import LineageInput, Migration, Pointer, RoomProfile
from reclaim.intel.lineage_score import iso as iso_unix
from reclaim.intel.sketch import MinHash
from reclaim.intel.text import room_refs
from reclaim.store.room_tables import Actor, Message, RoomInfo, RoomSnapshot, RoomTitle
from reclaim.store.tables import Room, Sighting, Signal

PDQ_MIN_QUALITY = 50  # below this a PDQ hash says little (flat images share it); fall back to SHA-256
EXCERPT = 160


__all__ = ["iso_unix", "lineage_input", "memberships", "unix"]


def unix(value: datetime | None) -> float | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.timestamp()


def rooms(session: Session, platform: str | None = "telegram") -> tuple[list[int], list[RoomProfile]]:
    """Room db ids and profiles (titles in order, activity span, type, username, bare id), ordered by db id."""
    stmt = (
        select(Room.id, Room.platform_id, Room.name, RoomInfo.room_type, RoomInfo.username, RoomInfo.bare_id)
        .outerjoin(RoomInfo, RoomInfo.room_id == Room.id)
        .order_by(Room.id)
    )
    if platform is not None:
        stmt = stmt.where(Room.platform == platform)
    rows = list(session.execute(stmt))
    titles: dict[int, list[tuple[float, int, str]]] = defaultdict(list)
    for room_id, tid, title, since in session.execute(
        select(RoomTitle.room_id, RoomTitle.id, RoomTitle.title, RoomTitle.since)
    ):
        titles[room_id].append((unix(since) or float("inf"), tid, title))
    span = {
        room_id: (unix(first), unix(last), n)
        for room_id, first, last, n in session.execute(
            select(Message.room_id, func.min(Message.posted_at), func.max(Message.posted_at), func.count()).group_by(
                Message.room_id
            )
        )
    }
    ids: list[int] = []
    profiles: list[RoomProfile] = []
    for room_id, platform_id, name, room_type, username, bare_id in rows:
        ordered = [t for _, _, t in sorted(titles.get(room_id, []))]
        names = tuple(dict.fromkeys(ordered)) or ((name,) if name else ())
        first, last, n = span.get(room_id, (None, None, 0))
        ids.append(room_id)
        profiles.append(RoomProfile(platform_id, names, first, last, n, room_type or "", username, bare_id))
    return ids, profiles


def memberships(session: Session, index: dict[int, int], bots: bool) -> tuple[np.ndarray, np.ndarray]:
    """(room index, actor id) for every account that posted in a room; people or bots only."""
    stmt = (
        select(Message.room_id, Message.actor_id)
        .join(Actor, Actor.id == Message.actor_id)
        .where(Actor.is_bot.is_(bots))
        .distinct()
    )
    return _pairs(session.execute(stmt), index)


def via_bots(session: Session, index: dict[int, int]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """(room index, negative key) for inline bots used in a room, and the bots' names by key."""
    names: dict[str, int] = {}
    rows: list[tuple[int, int]] = []
    for room_id, bot in session.execute(
        select(Message.room_id, Message.via_bot).where(Message.via_bot.is_not(None)).distinct()
    ):
        if room_id in index:
            rows.append((index[room_id], -1 - names.setdefault(str(bot).lower(), len(names))))
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1], {-1 - k: name for name, k in names.items()}


def media(session: Session, index: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(room index, media key): a PDQ hash shared after re-encoding counts as the same item, else the SHA-256 id."""
    canon: dict[int, int] = {}
    by_value: dict[str, int] = {}
    for media_id, value in session.execute(
        select(Signal.media_id, Signal.value).where(Signal.signal_type == "pdq", Signal.quality >= PDQ_MIN_QUALITY)
    ):
        canon[media_id] = by_value.setdefault(value, media_id)
    rows: list[tuple[int, int]] = []
    for room_id, media_id in session.execute(select(Sighting.room_id, Sighting.media_id).distinct()):
        if room_id in index:
            rows.append((index[room_id], canon.get(media_id, media_id)))
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def _pairs(result: Any, index: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rows = np.asarray([(index[r], a) for r, a in result if r in index], dtype=np.int64).reshape(-1, 2)
    return rows[:, 0], rows[:, 1]


def pointers(session: Session, index: dict[int, int]) -> list[Pointer]:
    """Messages linking rooms (t.me links in text or hidden links) and posts forwarded from channels."""
    entities = cast(Message.entities, String)
    stmt = select(
        Message.room_id,
        Message.message_id,
        Message.text,
        Message.entities,
        Message.forwarded_from_id,
    ).where(
        or_(
            Message.text.like("%t.me/%"),
            Message.text.like("%telegram.me/%"),
            entities.like("%t.me/%"),
            Message.forwarded_from_id.like("channel%"),
        )
    )
    out: list[Pointer] = []
    for room_id, message_id, text, ents, fwd in session.execute(stmt):
        if room_id not in index:
            continue
        room = index[room_id]
        excerpt = (text or "")[:EXCERPT]
        if fwd and fwd.startswith("channel") and fwd[7:].isdigit():
            out.append(Pointer(room, message_id, "forward", f"cid:{fwd[7:]}", False, excerpt))
        hrefs = tuple(str(e["href"]) for e in ents or [] if isinstance(e, dict) and "href" in e)
        refs = room_refs(text or "", hrefs)
        for u in sorted(refs.usernames):
            out.append(Pointer(room, message_id, "link", f"user:{u}", refs.moved, excerpt))
        for c in sorted(refs.channel_ids):
            out.append(Pointer(room, message_id, "link", f"cid:{c}", refs.moved, excerpt))
        for h in sorted(refs.invites):
            out.append(Pointer(room, message_id, "invite", f"invite:{h}", refs.moved, excerpt))
    return out


def migrations(session: Session, index: dict[int, int]) -> list[Migration]:
    stmt = (
        select(Message.room_id, Message.action, Message.posted_at, RoomTitle.title)
        .outerjoin(
            RoomTitle,
            (RoomTitle.room_id == Message.room_id) & (RoomTitle.message_id == Message.message_id),
        )
        .where(Message.action.in_(["migrate_to_supergroup", "migrate_from_group"]))
    )
    return [
        Migration(index[room_id], str(action), unix(at), title)
        for room_id, action, at, title in session.execute(stmt)
        if room_id in index
    ]


def actor_sketch(session: Session, index: dict[int, int], k: int = 128, chunk: int = 200_000) -> MinHash:
    """MinHash signatures of each room's posters, streamed in chunks (memory: rooms x k, not memberships)."""
    sketch = MinHash(len(index), k)
    stmt = (
        select(Message.room_id, Message.actor_id)
        .join(Actor, Actor.id == Message.actor_id)
        .where(Actor.is_bot.is_(False))
        .execution_options(yield_per=chunk)
    )
    for part in session.execute(stmt).partitions(chunk):
        arr = np.asarray([(index[r], a) for r, a in part if r in index], dtype=np.int64).reshape(-1, 2)
        arr = np.unique(arr, axis=0)
        bounds = np.flatnonzero(np.diff(arr[:, 0])) + 1
        for block in np.split(arr, bounds):
            if len(block):
                sketch.update(int(block[0, 0]), block[:, 1], new_members=0)
    sizes = session.execute(
        select(Message.room_id, func.count(distinct(Message.actor_id)))
        .join(Actor, Actor.id == Message.actor_id)
        .where(Actor.is_bot.is_(False))
        .group_by(Message.room_id)
    )
    for room_id, n in sizes:
        if room_id in index:
            sketch.sizes[index[room_id]] = int(n)
    return sketch


EXACT_LIMIT = 20_000_000  # messages; above this, actor overlap is estimated with MinHash (method="auto")


def lineage_input(
    session: Session, platform: str | None = "telegram", method: str = "auto"
) -> tuple[list[int], LineageInput]:
    """Everything lineage scoring reads; `method` exact, minhash, or auto (minhash above EXACT_LIMIT messages)."""
    ids, profiles = rooms(session, platform)
    index = {room_id: x for x, room_id in enumerate(ids)}
    if method == "auto":
        method = "minhash" if sum(p.messages for p in profiles) > EXACT_LIMIT else "exact"
    bot_rooms, bot_keys = memberships(session, index, bots=True)
    via_rooms, via_keys, via_names = via_bots(session, index)
    bot_names = {
        int(a): (u or p)
        for a, u, p in session.execute(select(Actor.id, Actor.username, Actor.platform_id).where(Actor.is_bot))
    }
    return ids, LineageInput(
        rooms=profiles,
        actors=memberships(session, index, bots=False) if method == "exact" else (_empty(), _empty()),
        media=media(session, index),
        bots=(np.concatenate([bot_rooms, via_rooms]), np.concatenate([bot_keys, via_keys])),
        bot_names=bot_names | via_names,
        pointers=pointers(session, index),
        migrations=migrations(session, index),
        actor_sketch=actor_sketch(session, index) if method == "minhash" else None,
    )


def latest_participants(session: Session) -> dict[int, list[tuple[float | None, int]]]:
    """Every reported `participants_count` per room, oldest first."""
    out: dict[int, list[tuple[float | None, int]]] = defaultdict(list)
    for room_id, taken_at, n in session.execute(
        select(RoomSnapshot.room_id, RoomSnapshot.taken_at, RoomSnapshot.participants_count)
        .where(RoomSnapshot.participants_count.is_not(None))
        .order_by(RoomSnapshot.room_id, RoomSnapshot.taken_at, RoomSnapshot.id)
    ):
        if n is not None:
            out[room_id].append((unix(taken_at), int(n)))
    return dict(out)


def distinct_count(session: Session, room_ids: list[int] | None) -> int:
    stmt = select(func.count(distinct(Message.actor_id))).join(Actor, Actor.id == Message.actor_id)
    stmt = stmt.where(Actor.is_bot.is_(False))
    if room_ids is not None:
        stmt = stmt.where(Message.room_id.in_(room_ids))
    return int(session.scalar(stmt) or 0)
