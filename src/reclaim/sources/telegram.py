"""Telegram records shared by the export reader and the live monitor: chats, actors, messages, media.

Both sources produce the same `TelegramMessage` values, so recording, pair detection and listings do not care
whether a message came from a Telegram Desktop export or from Telethon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reclaim.model import MediaType

TELEGRAM_PLATFORM = "telegram"

# Telegram Desktop's chat types (export_output_json.cpp, TypeString); Telethon chats map onto the same names.
CHAT_TYPES = (
    "personal_chat",
    "bot_chat",
    "saved_messages",
    "replies",
    "private_group",
    "private_supergroup",
    "public_supergroup",
    "private_channel",
    "public_channel",
)
_CHANNEL_TYPES = {"private_supergroup", "public_supergroup", "private_channel", "public_channel"}

# Media a message can carry that Reclaim hashes; voice and audio files are not images or videos of people.
VIDEO_KINDS = {"video_file", "animation", "video_message"}


def platform_chat_id(bare_id: int, chat_type: str) -> str:
    """The Bot-API form of a chat id: -100<id> for channels and supergroups, -<id> for basic groups."""
    if chat_type in _CHANNEL_TYPES:
        return f"-100{bare_id}"
    if chat_type == "private_group":
        return f"-{bare_id}"
    return str(bare_id)


def utc_from_unix(value: Any) -> datetime | None:
    """Telegram's unix times (int or numeric string) as aware UTC datetimes; None when absent or malformed."""
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    if seconds <= 0 or seconds > 32_503_680_000:  # before 1970 or after year 3000: not a real post time
        return None
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """A chat as the platform knows it. `platform_id` is the Bot-API form, stable across title changes."""

    bare_id: int
    chat_type: str
    name: str

    @property
    def platform_id(self) -> str:
        return platform_chat_id(self.bare_id, self.chat_type)


@dataclass(frozen=True, slots=True)
class ActorRef:
    """An account: `platform_id` as Telegram Desktop writes it (user123, channel123, chat123)."""

    platform_id: str
    name: str | None = None
    username: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Media attached to a message: readable bytes, or the reason they are missing."""

    kind: str  # photo, video_file, animation, sticker, video_message, file
    media_type: MediaType | None
    locator: str  # where it lives: a path inside the export, or the live message
    read: Callable[[], bytes] | None = None
    missing: str | None = None  # why there are no bytes: not_included, too_large, unavailable, unsupported, ...
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(slots=True)
class TelegramMessage:
    """One message or service action, in UTC, with its text flattened and the original fields it did not model."""

    message_id: int
    kind: str  # message, service, unsupported
    posted_at: datetime | None
    actor: ActorRef | None = None
    edited_at: datetime | None = None
    text: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_to: int | None = None
    forwarded_from: str | None = None
    forwarded_from_id: str | None = None
    saved_from: str | None = None
    via_bot: str | None = None
    author: str | None = None  # a channel post's signature
    action: str | None = None
    title: str | None = None  # the title a create/rename action set
    members: list[str] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    media: MediaRef | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sets_title(self) -> bool:
        return self.title is not None and self.action in TITLE_ACTIONS


# Service actions whose `title` is the room's title from then on.
TITLE_ACTIONS = {"create_group", "create_channel", "edit_group_title", "migrate_from_group"}


def flatten_text(value: Any) -> tuple[str, list[dict[str, Any]]]:
    """Telegram Desktop writes text as a string or a list of strings and entity objects: return text + entities."""
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        return "", []
    parts: list[str] = []
    entities: list[dict[str, Any]] = []
    offset = 0
    for part in value:
        if isinstance(part, str):
            chunk = part
        elif isinstance(part, dict):
            chunk = str(part.get("text", ""))
            kind = str(part.get("type", "unknown"))
            if kind != "plain":
                entity: dict[str, Any] = {"type": kind, "text": chunk, "offset": offset}
                for key in ("href", "user_id", "language", "document_id"):
                    if key in part:
                        entity[key] = part[key]
                entities.append(entity)
        else:
            continue
        parts.append(chunk)
        offset += len(chunk)
    return "".join(parts), entities
