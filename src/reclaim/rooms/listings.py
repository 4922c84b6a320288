"""Rooms, actors and request → output pairs, in the shapes `reclaim rooms|actors|pairs --json` promise.

Counts are computed by the database (GROUP BY), so listing a room of 227,000 members never loads its messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, aliased

from reclaim.errors import RoomNotFound
from reclaim.store.room_tables import (
    Actor,
    ActorName,
    MediaLink,
    Message,
    MessageMedia,
    RoomInfo,
    RoomSnapshot,
    RoomTitle,
)
from reclaim.store.tables import Media, Room, Sighting

PAGE = 1000


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z; SQLite hands back naive datetimes that were stored as UTC."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def room_by_platform_id(session: Session, platform_id: str) -> Room:
    room = session.scalar(select(Room).where(Room.platform_id == platform_id))
    if room is None:
        raise RoomNotFound(f"no room has the id '{platform_id}'; `reclaim rooms` lists the ids.")
    return room


def list_rooms(session: Session, platform: str | None = None) -> list[dict[str, Any]]:
    stmt = select(Room).order_by(Room.id)
    if platform is not None:
        stmt = stmt.where(Room.platform == platform)
    rooms = list(session.scalars(stmt))
    ids = [r.id for r in rooms]
    messages = _grouped(session, select(Message.room_id, func.count()).group_by(Message.room_id), ids)
    actors = _grouped(
        session,
        select(Message.room_id, func.count(distinct(Message.actor_id))).group_by(Message.room_id),
        ids,
    )
    media = _grouped(session, select(Sighting.room_id, func.count()).group_by(Sighting.room_id), ids)
    missing = _grouped(
        session,
        select(MessageMedia.room_id, func.count())
        .where(MessageMedia.status == "missing")
        .group_by(MessageMedia.room_id),
        ids,
    )
    errors = _grouped(
        session,
        select(MessageMedia.room_id, func.count()).where(MessageMedia.status == "error").group_by(MessageMedia.room_id),
        ids,
    )
    span = {
        room_id: (first, last)
        for room_id, first, last in session.execute(
            select(Message.room_id, func.min(Message.posted_at), func.max(Message.posted_at)).group_by(Message.room_id)
        )
    }
    info = {i.room_id: i for i in session.scalars(select(RoomInfo))}
    titles: dict[int, list[RoomTitle]] = defaultdict(list)
    for t in session.scalars(select(RoomTitle).order_by(RoomTitle.room_id, RoomTitle.id)):
        titles[t.room_id].append(t)
    counts = _latest_participants(session)
    migrations = _migrations(session)
    out = []
    for r in rooms:
        first, last = span.get(r.id, (None, None))
        out.append(
            {
                "id": r.platform_id,
                "platform": r.platform,
                "type": info[r.id].room_type if r.id in info else r.platform,
                "titles": _titles(titles.get(r.id, []), r.name),
                "messages": messages.get(r.id, 0),
                "media": media.get(r.id, 0),
                "missing_media": missing.get(r.id, 0),
                "media_errors": errors.get(r.id, 0),
                "actors": actors.get(r.id, 0),
                "first_message_at": iso(first),
                "last_message_at": iso(last),
                "participants_count": counts.get(r.id),
                "migrated_from_group": migrations.get(r.id),
            }
        )
    return out


def _grouped(session: Session, stmt: Any, ids: Iterable[int]) -> dict[int, int]:
    wanted = set(ids)
    return {room_id: n for room_id, n in session.execute(stmt) if room_id in wanted}


def _titles(rows: list[RoomTitle], current: str) -> list[dict[str, Any]]:
    """Titles in the order they took effect; a title known only from an export header comes last."""
    dated = sorted((t for t in rows if t.since is not None), key=lambda t: (iso(t.since), t.id))
    undated = [t for t in rows if t.since is None]
    out: list[dict[str, Any]] = []
    for t in dated:
        if not out or out[-1]["title"] != t.title:
            out.append({"title": t.title, "since": iso(t.since)})
    for t in undated:
        if not out or out[-1]["title"] != t.title:
            out.append({"title": t.title, "since": None})
    if not out and current:
        out.append({"title": current, "since": None})
    return out


def _latest_participants(session: Session) -> dict[int, int | None]:
    latest = (
        select(RoomSnapshot.room_id, func.max(RoomSnapshot.id).label("last")).group_by(RoomSnapshot.room_id).subquery()
    )
    rows = session.execute(
        select(RoomSnapshot.room_id, RoomSnapshot.participants_count).join(latest, latest.c.last == RoomSnapshot.id)
    )
    return {room_id: count for room_id, count in rows}


def _migrations(session: Session) -> dict[int, dict[str, Any]]:
    """A basic group upgraded to this supergroup: its title then, when, and how many of its messages came along."""
    out: dict[int, dict[str, Any]] = {}
    for room_id, posted_at, title in session.execute(
        select(Message.room_id, Message.posted_at, RoomTitle.title)
        .outerjoin(
            RoomTitle,
            (RoomTitle.room_id == Message.room_id) & (RoomTitle.message_id == Message.message_id),
        )
        .where(Message.action == "migrate_from_group")
    ):
        out[room_id] = {"title": title, "at": iso(posted_at), "old_group_messages": 0}
    if out:
        for room_id, n in session.execute(
            select(Message.room_id, func.count())
            .where(Message.room_id.in_(list(out)), Message.message_id < 0)
            .group_by(Message.room_id)
        ):
            out[room_id]["old_group_messages"] = n
    return out


def list_actors(session: Session, room: str | None = None) -> list[dict[str, Any]]:
    room_filter = room_by_platform_id(session, room).id if room is not None else None
    per_actor = select(
        Message.actor_id,
        func.count().label("messages"),
        func.count(MessageMedia.media_id).label("media"),
    ).outerjoin(
        MessageMedia,
        (MessageMedia.room_id == Message.room_id) & (MessageMedia.message_id == Message.message_id),
    )
    if room_filter is not None:
        per_actor = per_actor.where(Message.room_id == room_filter)
    per_actor = per_actor.where(Message.actor_id.is_not(None)).group_by(Message.actor_id)
    stats = {a: (m, media) for a, m, media in session.execute(per_actor)}
    rooms_of: dict[int, list[str]] = defaultdict(list)
    for actor_id, platform_id in session.execute(
        select(Message.actor_id, Room.platform_id).join(Room, Room.id == Message.room_id).distinct()
    ):
        if actor_id is not None and actor_id in stats:
            rooms_of[actor_id].append(platform_id)
    names: dict[int, list[str]] = defaultdict(list)
    for actor_id, name in session.execute(
        select(ActorName.actor_id, ActorName.name).order_by(ActorName.actor_id, ActorName.first_seen, ActorName.id)
    ):
        if actor_id in stats:
            names[actor_id].append(name)
    out = []
    for actor in session.scalars(select(Actor).order_by(Actor.id)):
        if actor.id not in stats:
            continue
        messages, media = stats[actor.id]
        out.append(
            {
                "id": actor.platform_id,
                "names": names.get(actor.id, []),
                "username": actor.username,
                "is_bot": actor.is_bot,
                "rooms": len(rooms_of.get(actor.id, [])),
                "room_ids": rooms_of.get(actor.id, []),
                "messages": messages,
                "media": media,
            }
        )
    return out


def list_pairs(session: Session, room: str | None = None) -> list[dict[str, Any]]:
    out_media = aliased(Media)
    src_media = aliased(Media)
    stmt = (
        select(MediaLink, Room.platform_id, out_media.sha256, src_media.sha256)
        .join(Room, Room.id == MediaLink.room_id)
        .join(out_media, out_media.id == MediaLink.media_id)
        .join(src_media, src_media.id == MediaLink.source_media_id)
        .order_by(MediaLink.id)
    )
    if room is not None:
        stmt = stmt.where(MediaLink.room_id == room_by_platform_id(session, room).id)
    return [
        {
            "id": link.id,
            "room": room_id,
            "rule": link.rule,
            "output": {"message_id": link.message_id, "media_sha256": out_sha},
            "source": {"message_id": link.source_message_id, "media_sha256": src_sha},
            "evidence": link.evidence,
        }
        for link, room_id, out_sha, src_sha in session.execute(stmt)
    ]


def sources_of(session: Session, media_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The media each media was derived from (request → output links), for the match listing."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ids = sorted(set(media_ids))
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        stmt = (
            select(MediaLink, Media.sha256, Room.platform_id)
            .join(Media, Media.id == MediaLink.source_media_id)
            .join(Room, Room.id == MediaLink.room_id)
            .where(MediaLink.media_id.in_(chunk))
            .order_by(MediaLink.id)
        )
        for link, sha, room in session.execute(stmt):
            out[link.media_id].append(
                {"media_sha256": sha, "room": room, "message_id": link.source_message_id, "rule": link.rule}
            )
    return out
