"""Rooms as platforms describe them: titles over time, actors and their names, messages, media links, monitoring.

Media bytes are never here; a message's media is a link to `media` (by SHA-256) or the reason it is missing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.store.tables import Base, utcnow


class RoomInfo(Base):
    """Platform facts about a room: its type and bare id (the room row keeps the stable platform id)."""

    __tablename__ = "room_info"

    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), primary_key=True)
    room_type: Mapped[str] = mapped_column(String(32))
    bare_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomTitle(Base):
    """A title a room carried from `since` (UTC; None when only known from an export's header)."""

    __tablename__ = "room_title"
    __table_args__ = (UniqueConstraint("room_id", "title", "since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    title: Mapped[str] = mapped_column(String(1024))
    since: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str | None] = mapped_column(String(64))


class Actor(Base):
    """An account seen in rooms, keyed by its platform id (user123, channel123, chat123)."""

    __tablename__ = "actor"
    __table_args__ = (UniqueConstraint("platform", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255))
    is_bot: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActorName(Base):
    """A display name or signature an actor used, with the first and last post time it was seen under it."""

    __tablename__ = "actor_name"
    __table_args__ = (UniqueConstraint("actor_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id"), index=True)
    name: Mapped[str] = mapped_column(String(1024))
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]


class Message(Base):
    """One post or service action in a room, with UTC times; fields the platform added later are kept raw."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("room_id", "message_id"),
        Index("ix_message_actor_room", "actor_id", "room_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id"))
    posted_at: Mapped[datetime | None] = mapped_column(index=True)
    edited_at: Mapped[datetime | None]
    text: Mapped[str] = mapped_column(Text, default="")
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reply_to: Mapped[int | None] = mapped_column(BigInteger)
    forwarded_from: Mapped[str | None] = mapped_column(String(1024))
    forwarded_from_id: Mapped[str | None] = mapped_column(String(255))
    saved_from: Mapped[str | None] = mapped_column(String(1024))
    via_bot: Mapped[str | None] = mapped_column(String(255))
    author: Mapped[str | None] = mapped_column(String(1024))
    action: Mapped[str | None] = mapped_column(String(64))
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    reactions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageMedia(Base):
    """The media a message carries: hashed (`media_id`), or missing/failed with the reason."""

    __tablename__ = "message_media"
    __table_args__ = (UniqueConstraint("room_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # hashed, missing, error
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"), index=True)
    path: Mapped[str | None] = mapped_column(String(4096))
    reason: Mapped[str | None] = mapped_column(Text)


class MediaLink(Base):
    """`media_id` was derived from `source_media_id` (a request → output pair), with the evidence for it."""

    __tablename__ = "media_link"
    __table_args__ = (UniqueConstraint("media_id", "source_media_id", "room_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="derived_from")
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), index=True)
    source_media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomSnapshot(Base):
    """What the platform reported about a room at a time, e.g. `participants_count` from full channel info."""

    __tablename__ = "room_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    participants_count: Mapped[int | None]
    about: Mapped[str | None] = mapped_column(Text)


class MonitorCheckpoint(Base):
    """The last message id the live monitor finished in a room, so a restart continues from there."""

    __tablename__ = "monitor_checkpoint"

    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), primary_key=True)
    last_message_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
