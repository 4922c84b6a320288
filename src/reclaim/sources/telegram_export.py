"""Telegram Desktop's machine-readable export (`result.json`), read as a stream.

Field names follow Telegram Desktop's JSON writer (Telegram/SourceFiles/export/output/export_output_json.cpp).
A single-chat export is `{"name", "type", "id", "messages": [...]}`; a full-account export nests chats under
`chats.list` and `left_chats.list`, with media paths relative to the export root (`chats/chat_NNN/...`). The file
is parsed incrementally (ijson), so a room with hundreds of thousands of messages never sits in memory whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

import ijson

from reclaim.errors import ExportFormatError, MediaTooLarge, ReclaimError, UnsafePath
from reclaim.model import MediaType
from reclaim.sources.telegram import (
    CHAT_TYPES,
    VIDEO_KINDS,
    ActorRef,
    ChatInfo,
    MediaRef,
    TelegramMessage,
    flatten_text,
    utc_from_unix,
)

# Fields this reader models; anything else a newer Telegram Desktop writes is kept raw in `extra`.
_MODELLED = {
    "id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "from", "from_id", "actor", "actor_id",
    "author", "forwarded_from", "forwarded_from_id", "saved_from", "reply_to_message_id", "via_bot", "action",
    "title", "members", "text", "text_entities", "reactions", "photo", "file", "thumbnail", "media_type",
    "mime_type", "width", "height", "photo_file_size", "thumbnail_file_size", "file_size",
}  # fmt: skip

# Placeholders Telegram Desktop writes instead of a path when it did not save the file.
_PLACEHOLDER = re.compile(r"^\((?:File|Photo|Video)[^)]*\)$")
_PLACEHOLDER_REASONS = (
    ("not included", "not_included"),
    ("exceeds maximum size", "too_large"),
    ("unavailable", "unavailable"),
)
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic"}
_VIDEO_SUFFIXES = {".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v", ".3gp"}


@dataclass(frozen=True, slots=True)
class ChatStart:
    """A chat begins; its messages follow. `left` marks chats from `left_chats` (the exporter left them)."""

    chat: ChatInfo
    left: bool = False


@dataclass(frozen=True, slots=True)
class BadMessage:
    """A message the reader could not use, with the reason; the rest of the chat goes on."""

    chat: ChatInfo
    locator: str
    reason: str


ExportEvent = ChatStart | TelegramMessage | BadMessage


class TelegramExport:
    """A Telegram Desktop export folder. Paths inside it are resolved safely: nothing outside it is ever read."""

    def __init__(self, path: str | Path, max_bytes: int | None = None) -> None:
        given = Path(path)
        root = given.parent if given.name == "result.json" and given.is_file() else given
        if not root.is_dir():
            raise ExportFormatError(f"'{path}' is not a folder; give the Telegram Desktop export folder.")
        self.result = root / "result.json"
        if not self.result.is_file():
            raise ExportFormatError(
                f"'{root}' has no result.json. Export from Telegram Desktop with 'Machine-readable JSON' "
                "(Settings → Advanced → Export Telegram data) and give that folder."
            )
        self.root = root
        self._real_root = root.resolve()
        self._max_bytes = max_bytes

    @property
    def name(self) -> str:
        return f"telegram-export:{self._real_root}"

    def events(self) -> Iterator[ExportEvent]:
        """Chats and their messages in file order. Malformed JSON raises ExportFormatError where it starts.

        The fast C parser refuses integers beyond 64 bits; a file holding one (damage, or a hostile export) is read
        again with the pure-Python parser, skipping what was already yielded, so one absurd number costs time, not data.
        """
        emitted = 0
        try:
            with self.result.open("rb") as fh:
                for event in self._walk(fh, ijson):
                    emitted += 1
                    yield event
        except _IntegerOverflow:
            from ijson.backends import python as slow_parser

            with self.result.open("rb") as fh:
                for index, event in enumerate(self._walk(fh, slow_parser)):
                    if index >= emitted:
                        yield event

    def _walk(self, fh: BinaryIO, backend: Any) -> Iterator[ExportEvent]:
        parser = backend.parse(fh, use_float=True)
        header: dict[str, Any] = {}
        chat: ChatInfo | None = None
        shape: str | None = None
        left = False
        try:
            for prefix, event, value in parser:
                if prefix == "" and event in {"start_map", "map_key", "end_map"}:
                    continue
                if prefix == "":
                    raise ExportFormatError(
                        "result.json is JSON but not a Telegram Desktop export (its top level is not an object)."
                    )
                top = prefix.split(".", 1)[0]
                if shape is None and top:
                    shape = "chat" if top in {"name", "type", "id", "messages"} else None
                    if top in {"chats", "left_chats"}:
                        shape = "account"
                if shape == "chat":
                    base = ""
                elif top in {"chats", "left_chats"}:
                    base = f"{top}.list.item."
                    left = top == "left_chats"
                else:
                    continue
                if base and prefix == base[:-1] and event == "start_map":
                    header, chat = {}, None  # a new chat in the account export
                    continue
                if base and not prefix.startswith(base):
                    continue
                key = prefix[len(base) :]
                if key in {"name", "type", "id"} and event in {"string", "number", "null"}:
                    header[key] = value
                    continue
                if key == "messages" and event == "start_array":
                    chat = _chat_from_header(header)
                    yield ChatStart(chat, left)
                    continue
                if key == "messages.item" and event == "start_map":
                    if chat is None:
                        raise ExportFormatError("a chat's messages come before its id; the export is damaged.")
                    obj = _build_object(parser)
                    yield self._message(chat, obj)
        except ijson.JSONError as exc:
            if "integer overflow" in str(exc) and backend is ijson:
                raise _IntegerOverflow from exc
            raise ExportFormatError(
                f"result.json is not valid JSON ({exc}). Messages before that point were ingested; "
                "re-export the chat to get the rest."
            ) from exc
        if shape is None:
            raise ExportFormatError(
                "result.json is JSON but not a Telegram Desktop export (no 'messages' and no 'chats'); "
                "give the folder Telegram Desktop wrote."
            )

    def _message(self, chat: ChatInfo, obj: Any) -> TelegramMessage | BadMessage:
        if not isinstance(obj, dict):
            return BadMessage(chat, "message ?", "a message entry is not a JSON object")
        raw_id = obj.get("id")
        if not isinstance(raw_id, int) or isinstance(raw_id, bool):
            return BadMessage(chat, f"message {str(raw_id)[:40]!r}", "the message has no numeric id")
        if not _in_range(raw_id):
            return BadMessage(chat, f"message {str(raw_id)[:40]}", "the message id is out of range for Telegram")
        try:
            return self._parse_message(obj, raw_id)
        except (TypeError, ValueError, AttributeError) as exc:
            return BadMessage(chat, f"message {raw_id}", f"the message is malformed ({exc.__class__.__name__})")

    def _parse_message(self, obj: dict[str, Any], message_id: int) -> TelegramMessage:
        kind = str(obj.get("type", "message"))
        text, entities = flatten_text(obj.get("text"))
        if not entities and isinstance(obj.get("text_entities"), list):
            _, entities = flatten_text(obj["text_entities"])
        actor_key = "actor" if kind == "service" else "from"
        extra = {k: v for k, v in obj.items() if k not in _MODELLED}
        posted_at = utc_from_unix(obj.get("date_unixtime"))
        if posted_at is None and "date" in obj:
            extra["date_local_without_offset"] = obj["date"]  # kept, never used as a UTC time
        via_bot = _str(obj.get("via_bot"))
        return TelegramMessage(
            message_id=message_id,
            kind=kind,
            posted_at=posted_at,
            actor=_actor(obj.get(f"{actor_key}_id"), obj.get(actor_key)),
            edited_at=utc_from_unix(obj.get("edited_unixtime")),
            text=text,
            entities=entities,
            reply_to=_int(obj.get("reply_to_message_id")),
            forwarded_from=_str(obj.get("forwarded_from")),
            forwarded_from_id=_str(obj.get("forwarded_from_id")),
            saved_from=_str(obj.get("saved_from")),
            via_bot=via_bot,
            author=_str(obj.get("author")),
            action=_str(obj.get("action")),
            title=_str(obj.get("title")) if kind == "service" else None,
            members=[m for m in obj.get("members") or [] if isinstance(m, str)],
            reactions=[r for r in obj.get("reactions") or [] if isinstance(r, dict)],
            media=self._media(obj, message_id),
            extra=extra,
        )

    def _media(self, obj: dict[str, Any], message_id: int) -> MediaRef | None:
        if "photo" in obj:
            kind, value, mime = "photo", obj["photo"], None
            media_type: MediaType | None = "image"
        elif "file" in obj:
            kind, value, mime = str(obj.get("media_type") or "file"), obj["file"], _str(obj.get("mime_type"))
            media_type = _file_media_type(kind, mime, value)
            if media_type is None and kind != "sticker":
                return None  # a voice message, an audio track, a PDF: not media of people
        else:
            return None
        size = (_int(obj.get("width")), _int(obj.get("height")))
        locator = value if isinstance(value, str) else f"message {message_id}"
        if not isinstance(value, str) or not value:
            return MediaRef(kind, media_type, locator, missing="no_path", mime_type=mime, width=size[0], height=size[1])
        if _PLACEHOLDER.match(value):
            reason = next((r for text, r in _PLACEHOLDER_REASONS if text in value), "not_in_export")
            return MediaRef(kind, media_type, value, missing=reason, mime_type=mime, width=size[0], height=size[1])
        if media_type is None:  # an animated (Lottie) sticker: not a picture Reclaim can hash
            return MediaRef(kind, None, value, missing="unsupported_format", mime_type=mime)
        return MediaRef(
            kind,
            media_type,
            value,
            read=partial(self._read, value),
            mime_type=mime,
            width=size[0],
            height=size[1],
        )

    def _read(self, relative: str) -> bytes:
        path = self.safe_path(relative)
        if not path.is_file():
            raise ReclaimError(f"the export names '{relative}' but the file is not in the export folder")
        if self._max_bytes is not None:
            size = path.stat().st_size
            if size > self._max_bytes:
                raise MediaTooLarge(f"'{relative}' is {size:,} bytes, over the limit of {self._max_bytes:,} bytes")
        return path.read_bytes()

    def safe_path(self, relative: str) -> Path:
        """`relative` inside the export, or UnsafePath: absolute paths, '..' and links out of the folder refused."""
        if "\x00" in relative or PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute():
            raise UnsafePath(f"the export names an absolute path ('{relative[:200]}'); not read")
        if PureWindowsPath(relative).drive or ".." in PurePosixPath(relative.replace("\\", "/")).parts:
            raise UnsafePath(f"the export names a path leaving its folder ('{relative[:200]}'); not read")
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self._real_root):
            raise UnsafePath(f"'{relative[:200]}' links outside the export folder; not read")
        return candidate


class _IntegerOverflow(Exception):
    """The C parser met an integer it cannot represent."""


def _build_object(parser: Iterator[tuple[str, str, Any]]) -> Any:
    """Build the JSON value whose start_map was just read, consuming events up to its end."""
    builder = ijson.ObjectBuilder()
    builder.event("start_map", None)
    depth = 1
    for _prefix, event, value in parser:
        builder.event(event, value)
        if event in {"start_map", "start_array"}:
            depth += 1
        elif event in {"end_map", "end_array"}:
            depth -= 1
            if depth == 0:
                break
    return builder.value


def _chat_from_header(header: dict[str, Any]) -> ChatInfo:
    bare = header.get("id")
    if not isinstance(bare, int) or isinstance(bare, bool) or not 0 < bare < 2**52:
        raise ExportFormatError("a chat in result.json has no numeric id; the export is damaged or hand-edited.")
    chat_type = header.get("type")
    if chat_type not in CHAT_TYPES:
        chat_type = "unknown"
    name = header.get("name")
    return ChatInfo(bare_id=bare, chat_type=str(chat_type), name=name if isinstance(name, str) else "")


def _actor(platform_id: Any, name: Any) -> ActorRef | None:
    if not isinstance(platform_id, str) or not platform_id:
        return None
    display = name if isinstance(name, str) else None
    return ActorRef(platform_id=platform_id, name=display, is_bot=looks_like_bot(display))


def looks_like_bot(name: str | None) -> bool:
    """Bots' usernames must end in 'bot'; exports give display names only, which usually follow suit."""
    return name is not None and name.strip().lower().endswith("bot")


def _file_media_type(kind: str, mime: str | None, value: Any) -> MediaType | None:
    suffix = PurePosixPath(value).suffix.lower() if isinstance(value, str) else ""
    if kind == "sticker":
        if suffix in _VIDEO_SUFFIXES:
            return "video"
        return "image" if suffix in _IMAGE_SUFFIXES or not suffix else None
    if kind in VIDEO_KINDS:
        return "video"
    if mime and mime.startswith("image/"):
        return "image"
    if mime and mime.startswith("video/"):
        return "video"
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and _in_range(value) else None


def _in_range(value: int) -> bool:
    """Telegram ids are 64-bit; anything larger is damage or hostility, and no database column would hold it."""
    return -(2**63) < value < 2**63
