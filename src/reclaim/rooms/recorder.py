"""Recording rooms, titles, actors and messages idempotently, in batches, inside the caller's transaction.

Keys are the platform's own: (platform, platform id) for rooms and actors, (room, message id) for messages. A
batch that was recorded before is skipped message by message, so re-ingesting an export adds nothing and a
later export of the same room adds only what is new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from reclaim.sources.base import RoomRef
from reclaim.sources.telegram import TELEGRAM_PLATFORM, ActorRef, ChatInfo, TelegramMessage
from reclaim.store import records
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
from reclaim.store.tables import utcnow


def room_ref(chat: ChatInfo) -> RoomRef:
    return RoomRef(TELEGRAM_PLATFORM, chat.platform_id, chat.name)


def ensure_chat(session: Session, chat: ChatInfo, username: str | None = None) -> int:
    """The room for `chat`, with its type and bare id; its header name becomes a title if none is known."""
    room_id = records.ensure_room(session, room_ref(chat))
    info = session.get(RoomInfo, room_id)
    if info is None:
        session.add(RoomInfo(room_id=room_id, room_type=chat.chat_type, bare_id=chat.bare_id, username=username))
    else:
        # An export of a basic group after its upgrade names the supergroup type: keep the newest.
        info.room_type = chat.chat_type
        info.username = username or info.username
        info.updated_at = utcnow()
    if chat.name:
        _ensure_title(session, room_id, chat.name, None, None, None)
    return room_id


def _ensure_title(
    session: Session, room_id: int, title: str, since: datetime | None, message_id: int | None, action: str | None
) -> None:
    stmt = select(RoomTitle.id).where(RoomTitle.room_id == room_id, RoomTitle.title == title)
    stmt = stmt.where(RoomTitle.since.is_(None) if since is None else RoomTitle.since == since)
    if session.scalar(stmt) is None:
        session.add(RoomTitle(room_id=room_id, title=title, since=since, message_id=message_id, action=action))


class ActorCache:
    """Actor ids by platform id for one ingest run (bounded by the actors seen, not by the messages)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def actor_id(self, session: Session, ref: ActorRef) -> int:
        known = self.ids.get(ref.platform_id)
        if known is not None:
            if ref.is_bot or ref.username:
                _mark(session, known, ref)
            return known
        row = session.scalar(
            select(Actor).where(Actor.platform == TELEGRAM_PLATFORM, Actor.platform_id == ref.platform_id)
        )
        if row is None:
            row = Actor(
                platform=TELEGRAM_PLATFORM, platform_id=ref.platform_id, username=ref.username, is_bot=ref.is_bot
            )
            session.add(row)
            session.flush()
        else:
            row.is_bot = row.is_bot or ref.is_bot
            row.username = ref.username or row.username
        self.ids[ref.platform_id] = row.id
        return row.id


def _mark(session: Session, actor_id: int, ref: ActorRef) -> None:
    row = session.get(Actor, actor_id)
    if row is not None:
        row.is_bot = row.is_bot or ref.is_bot
        row.username = ref.username or row.username


def record_messages(
    session: Session, room_id: int, messages: Sequence[TelegramMessage], actors: ActorCache
) -> list[TelegramMessage]:
    """Insert the messages not yet recorded in the room (and their titles, actors, names); returns those new ones."""
    if not messages:
        return []
    ids = [m.message_id for m in messages]
    known = set(
        session.scalars(select(Message.message_id).where(Message.room_id == room_id, Message.message_id.in_(ids)))
    )
    new = [m for m in messages if m.message_id not in known]
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[int, str], tuple[datetime | None, datetime | None]] = {}
    for m in new:
        actor_id = actors.actor_id(session, m.actor) if m.actor is not None else None
        if actor_id is not None:
            for name in _names(m):
                first, last = seen.get((actor_id, name), (m.posted_at, m.posted_at))
                seen[(actor_id, name)] = (_min(first, m.posted_at), _max(last, m.posted_at))
        if m.sets_title and m.title:
            _ensure_title(session, room_id, m.title, m.posted_at, m.message_id, m.action)
        rows.append(_row(room_id, actor_id, m))
        if m.media is not None and m.media.read is None:
            session.add(
                MessageMedia(
                    room_id=room_id,
                    message_id=m.message_id,
                    kind=m.media.kind,
                    status="missing",
                    path=m.media.locator[:4096],
                    reason=m.media.missing,
                )
            )
    if rows:
        session.execute(insert(Message), rows)
    _record_names(session, seen)
    return new


def _names(m: TelegramMessage) -> Iterable[str]:
    if m.actor is not None and m.actor.name:
        yield m.actor.name[:1024]


def _record_names(session: Session, seen: dict[tuple[int, str], tuple[datetime | None, datetime | None]]) -> None:
    """Upsert (actor, name) with the first and last post time seen under it; one query per batch."""
    if not seen:
        return
    actor_ids = sorted({actor_id for actor_id, _ in seen})
    existing = {
        (row.actor_id, row.name): row
        for row in session.scalars(select(ActorName).where(ActorName.actor_id.in_(actor_ids)))
    }
    for key, (first, last) in seen.items():
        row = existing.get(key)
        if row is None:
            session.add(ActorName(actor_id=key[0], name=key[1], first_seen=first, last_seen=last))
        else:
            row.first_seen = _min(row.first_seen, first)
            row.last_seen = _max(row.last_seen, last)


def _row(room_id: int, actor_id: int | None, m: TelegramMessage) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "message_id": m.message_id,
        "kind": m.kind[:16],
        "actor_id": actor_id,
        "posted_at": m.posted_at,
        "edited_at": m.edited_at,
        "text": m.text,
        "entities": m.entities,
        "reply_to": m.reply_to,
        "forwarded_from": _cut(m.forwarded_from, 1024),
        "forwarded_from_id": _cut(m.forwarded_from_id, 255),
        "saved_from": _cut(m.saved_from, 1024),
        "via_bot": _cut(m.via_bot, 255),
        "author": _cut(m.author, 1024),
        "action": _cut(m.action, 64),
        "members": m.members,
        "reactions": m.reactions,
        "extra": m.extra,
        "recorded_at": utcnow(),
    }


def media_status(session: Session, room_id: int, message_ids: Sequence[int]) -> dict[int, tuple[str, int | None]]:
    """(status, media id) of the messages' media already recorded, by message id."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(MessageMedia.message_id, MessageMedia.status, MessageMedia.media_id).where(
            MessageMedia.room_id == room_id, MessageMedia.message_id.in_(list(message_ids))
        )
    )
    return {mid: (status, media_id) for mid, status, media_id in rows}


def linked_outputs(session: Session, room_id: int, message_ids: Sequence[int]) -> set[int]:
    """Which of these messages already have their request → output link recorded."""
    if not message_ids:
        return set()
    stmt = select(MediaLink.message_id).where(MediaLink.room_id == room_id, MediaLink.message_id.in_(list(message_ids)))
    return set(session.scalars(stmt))


def set_media(
    session: Session,
    room_id: int,
    message: TelegramMessage,
    media_id: int | None,
    reason: str | None,
) -> None:
    """Record the outcome for a message's media: hashed (with its media id) or error (with the reason)."""
    assert message.media is not None
    row = session.scalar(
        select(MessageMedia).where(MessageMedia.room_id == room_id, MessageMedia.message_id == message.message_id)
    )
    status = "hashed" if media_id is not None else "error"
    if row is None:
        row = MessageMedia(room_id=room_id, message_id=message.message_id, kind=message.media.kind, status=status)
        session.add(row)
    row.status, row.media_id, row.reason = status, media_id, reason
    row.path = message.media.locator[:4096]


def record_snapshot(session: Session, room_id: int, participants_count: int | None, about: str | None) -> None:
    session.add(RoomSnapshot(room_id=room_id, participants_count=participants_count, about=about))


def _cut(value: str | None, n: int) -> str | None:
    return value[:n] if value is not None else None


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(_aware(a), _aware(b))


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(_aware(a), _aware(b))


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for aware columns; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
