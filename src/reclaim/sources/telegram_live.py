"""Telethon's objects as Reclaim's Telegram records, so live messages are recorded exactly like exported ones.

Only Telethon's TL types are read here (no network): ids are written the way Telegram Desktop's export writes them
(`user123`, `channel123`, `chat123`; chats in the Bot-API form), service actions get the export's action names,
and media is classified by the same rules as in an export.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telethon.helpers import add_surrogate, del_surrogate
from telethon.tl import types

from reclaim.errors import TelegramError
from reclaim.model import MediaType
from reclaim.sources.telegram import ActorRef, ChatInfo, MediaRef, TelegramMessage

_INVITE = re.compile(r"^(?:https?://)?(?:t|telegram)\.me/(?:\+|joinchat/)([A-Za-z0-9_-]+)/?$")
_PUBLIC = re.compile(r"^(?:https?://)?(?:t|telegram)\.me/([A-Za-z][A-Za-z0-9_]{3,})/?$|^@([A-Za-z][A-Za-z0-9_]{3,})$")

# Telethon action types → the names Telegram Desktop's export uses.
_ACTIONS: dict[type, str] = {
    types.MessageActionChatCreate: "create_group",
    types.MessageActionChannelCreate: "create_channel",
    types.MessageActionChatEditTitle: "edit_group_title",
    types.MessageActionChatEditPhoto: "edit_group_photo",
    types.MessageActionChatDeletePhoto: "delete_group_photo",
    types.MessageActionChatAddUser: "invite_members",
    types.MessageActionChatDeleteUser: "remove_members",
    types.MessageActionChatJoinedByLink: "join_group_by_link",
    types.MessageActionChatJoinedByRequest: "join_group_by_request",
    types.MessageActionChatMigrateTo: "migrate_to_supergroup",
    types.MessageActionChannelMigrateFrom: "migrate_from_group",
    types.MessageActionPinMessage: "pin_message",
    types.MessageActionHistoryClear: "clear_history",
}
_ENTITIES: dict[type, str] = {
    types.MessageEntityMention: "mention",
    types.MessageEntityHashtag: "hashtag",
    types.MessageEntityBotCommand: "bot_command",
    types.MessageEntityUrl: "link",
    types.MessageEntityEmail: "email",
    types.MessageEntityTextUrl: "text_link",
    types.MessageEntityMentionName: "mention_name",
    types.MessageEntityPhone: "phone",
    types.MessageEntityCashtag: "cashtag",
}


@dataclass(frozen=True, slots=True)
class RoomQuery:
    """What the operator named: an invite hash, a public username, or a numeric id."""

    kind: str  # invite, username, id
    value: str | int


def parse_room(ref: str) -> RoomQuery:
    """`@name`, `t.me/name`, `t.me/+HASH`, `t.me/joinchat/HASH`, or a numeric id (bare or -100...)."""
    text = ref.strip()
    if m := _INVITE.match(text):
        return RoomQuery("invite", m.group(1))
    if m := _PUBLIC.match(text):
        return RoomQuery("username", m.group(1) or m.group(2))
    if re.fullmatch(r"-?\d{1,20}", text):
        return RoomQuery("id", int(text))
    raise TelegramError(
        f"'{ref[:100]}' is not a room Reclaim can monitor; give @name, t.me/name, t.me/+invite or a numeric id."
    )


def chat_info(entity: Any) -> ChatInfo:
    """A Telethon Channel / Chat / User as a chat with Telegram Desktop's type names."""
    if isinstance(entity, types.Channel):
        public = bool(getattr(entity, "username", None))
        kind = ("public_" if public else "private_") + ("supergroup" if entity.megagroup else "channel")
        return ChatInfo(entity.id, kind, entity.title or "")
    if isinstance(entity, types.Chat | types.ChatForbidden):
        return ChatInfo(entity.id, "private_group", entity.title or "")
    if isinstance(entity, types.ChannelForbidden):
        return ChatInfo(entity.id, "private_supergroup" if entity.megagroup else "private_channel", entity.title or "")
    if isinstance(entity, types.User):
        return ChatInfo(entity.id, "bot_chat" if entity.bot else "personal_chat", _user_name(entity) or "")
    raise TelegramError(f"Telegram returned a {type(entity).__name__}, which is not a chat Reclaim can monitor.")


def peer_form(peer: Any) -> str | None:
    """`user123` / `channel123` / `chat123`, as Telegram Desktop writes `from_id`."""
    if isinstance(peer, types.PeerUser):
        return f"user{peer.user_id}"
    if isinstance(peer, types.PeerChannel):
        return f"channel{peer.channel_id}"
    if isinstance(peer, types.PeerChat):
        return f"chat{peer.chat_id}"
    return None


def _user_name(user: Any) -> str | None:
    if isinstance(user, types.User):
        name = " ".join(p for p in (user.first_name, user.last_name) if p)
        return name or None
    title = getattr(user, "title", None)
    return title if isinstance(title, str) else None


def to_message(msg: Any, read: Callable[[], bytes] | None) -> TelegramMessage:
    """A Telethon message as a record; `read` returns its media bytes (already downloaded by the monitor)."""
    peer = msg.from_id if msg.from_id is not None else msg.peer_id
    sender = getattr(msg, "sender", None)
    actor = None
    if (platform_id := peer_form(peer)) is not None:
        is_bot = bool(getattr(sender, "bot", False))
        actor = ActorRef(platform_id, _user_name(sender), getattr(sender, "username", None), is_bot)
    action = msg.action if isinstance(msg, types.MessageService) or getattr(msg, "action", None) else None
    title = getattr(action, "title", None) if action is not None else None
    text = msg.message if isinstance(getattr(msg, "message", None), str) else ""
    via_name = getattr(getattr(msg, "via_bot", None), "username", None)
    fwd = getattr(msg, "fwd_from", None)
    reply = getattr(msg, "reply_to", None)
    return TelegramMessage(
        message_id=msg.id,
        kind="service" if action is not None else "message",
        posted_at=msg.date,
        actor=actor,
        edited_at=getattr(msg, "edit_date", None),
        text=text,
        entities=_entities(text, getattr(msg, "entities", None)),
        reply_to=getattr(reply, "reply_to_msg_id", None) if isinstance(reply, types.MessageReplyHeader) else None,
        forwarded_from=(fwd.from_name or peer_form(fwd.from_id)) if fwd is not None else None,
        forwarded_from_id=peer_form(fwd.from_id) if fwd is not None else None,
        via_bot=(f"@{via_name}" if via_name else None)
        or (f"user{msg.via_bot_id}" if getattr(msg, "via_bot_id", None) else None),
        author=getattr(msg, "post_author", None),
        action=_ACTIONS.get(type(action), _snake(type(action).__name__)) if action is not None else None,
        title=title if isinstance(title, str) else None,
        reactions=_reactions(getattr(msg, "reactions", None)),
        media=_media(msg, action, read),
        extra={
            k: v
            for k, v in (("views", getattr(msg, "views", None)), ("grouped_id", getattr(msg, "grouped_id", None)))
            if v
        },
    )


def has_media(msg: Any) -> bool:
    """Whether the message carries media Reclaim hashes (so the monitor downloads it)."""
    action = getattr(msg, "action", None)
    return _media(msg, action, None) is not None


def _media(msg: Any, action: Any, read: Callable[[], bytes] | None) -> MediaRef | None:
    locator = f"message {msg.id}"
    if isinstance(action, types.MessageActionChatEditPhoto):
        return _ref("photo", "image", locator, read)
    media = getattr(msg, "media", None)
    if isinstance(media, types.MessageMediaPhoto) and media.photo is not None:
        return _ref("photo", "image", locator, read)
    if not isinstance(media, types.MessageMediaDocument) or not isinstance(media.document, types.Document):
        return None
    doc = media.document
    mime = doc.mime_type or ""
    attrs = {type(a): a for a in doc.attributes}
    kind, media_type = _classify(attrs, mime)
    if kind is None:
        return None
    if media_type is None:
        return MediaRef(kind, None, locator, missing="unsupported_format", mime_type=mime)
    return _ref(kind, media_type, locator, read, mime)


def _classify(attrs: dict[type, Any], mime: str) -> tuple[str | None, MediaType | None]:
    """Telegram Desktop's media kinds from a document's attributes; the type Reclaim decodes it as, if any."""
    is_image, is_video = mime.startswith("image/"), mime.startswith("video/")
    video = attrs.get(types.DocumentAttributeVideo)
    if types.DocumentAttributeSticker in attrs:
        kind = "sticker"
    elif video is not None and getattr(video, "round_message", False):
        kind = "video_message"
    elif types.DocumentAttributeAnimated in attrs:
        kind = "animation"
    elif video is not None:
        kind = "video_file"
    elif is_image or is_video:
        kind = "file"
    else:
        return None, None
    media_type: MediaType | None = None
    if is_video or kind in {"video_message", "video_file"}:
        media_type = "video"
    elif is_image:
        media_type = "image"
    return kind, media_type


def _ref(
    kind: str, media_type: MediaType, locator: str, read: Callable[[], bytes] | None, mime: str | None = None
) -> MediaRef:
    if read is None:
        return MediaRef(kind, media_type, locator, missing="not_downloaded", mime_type=mime)
    return MediaRef(kind, media_type, locator, read=read, mime_type=mime)


def _entities(text: str, entities: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    wide = add_surrogate(text)  # Telegram's offsets count UTF-16 code units
    for e in entities or []:
        kind = _ENTITIES.get(type(e))
        if kind is None:
            continue
        piece = del_surrogate(wide[e.offset : e.offset + e.length])
        entity: dict[str, Any] = {"type": kind, "text": piece, "offset": e.offset}
        if isinstance(e, types.MessageEntityTextUrl):
            entity["href"] = e.url
        if isinstance(e, types.MessageEntityMentionName):
            entity["user_id"] = e.user_id
        out.append(entity)
    return out


def _reactions(reactions: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for result in getattr(reactions, "results", None) or []:
        reaction = result.reaction
        if isinstance(reaction, types.ReactionEmoji):
            out.append({"type": "emoji", "emoji": reaction.emoticon, "count": result.count})
        elif isinstance(reaction, types.ReactionCustomEmoji):
            out.append({"type": "custom_emoji", "document_id": reaction.document_id, "count": result.count})
    return out


def _snake(name: str) -> str:
    stripped = name.removeprefix("MessageAction")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stripped).lower()
