"""Generated Telegram Desktop exports for tests, the demo and benchmarks (synthetic, non-sexual images only).

Written the way Telegram Desktop's JSON writer writes them: `date` in the exporting machine's local time without
an offset (here deliberately UTC+9, so a reader that trusts it is caught), `date_unixtime` as a numeric string,
text as a string or a list of strings and entity objects, media paths relative to the export root. The writer
streams, so a 100,000-message export never sits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

LOCAL_OFFSET = timedelta(hours=9)  # the exporting machine's clock, which `date` carries without saying so


def local_date(unix: int) -> str:
    return (datetime.fromtimestamp(unix, UTC) + LOCAL_OFFSET).replace(tzinfo=None).isoformat()


def message(
    message_id: int, unix: int, sender: str | None, sender_id: str | None, text: Any = "", **fields: Any
) -> dict[str, Any]:
    """A regular message as Telegram Desktop writes it (fields in its order, empty ones left out)."""
    out: dict[str, Any] = {"id": message_id, "type": "message", "date": local_date(unix), "date_unixtime": str(unix)}
    if sender_id is not None:
        out["from"] = sender
        out["from_id"] = sender_id
    out.update(fields)
    out["text"] = text
    out["text_entities"] = _entities(text)
    return out


def service(message_id: int, unix: int, actor: str | None, actor_id: str, action: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message_id,
        "type": "service",
        "date": local_date(unix),
        "date_unixtime": str(unix),
        "actor": actor,
        "actor_id": actor_id,
        "action": action,
    }
    out.update(fields)
    out["text"] = ""
    out["text_entities"] = []
    return out


def _entities(text: Any) -> list[dict[str, Any]]:
    if isinstance(text, str):
        return [{"type": "plain", "text": text}] if text else []
    return [p if isinstance(p, dict) else {"type": "plain", "text": p} for p in text]


class ChatWriter:
    """Writes one chat's messages and its media files."""

    def __init__(self, fh: IO[str], root: Path, media_dir: str) -> None:
        self._fh, self._root, self._media_dir = fh, root, media_dir
        self._first = True
        self.count = 0

    def media(self, name: str, data: bytes, folder: str = "photos") -> str:
        """Save a media file inside the export and return the relative path the JSON names."""
        rel = f"{self._media_dir}{folder}/{name}"
        path = self._root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return rel

    def write(self, obj: dict[str, Any]) -> None:
        self._fh.write(("\n  " if self._first else ",\n  ") + json.dumps(obj, ensure_ascii=False))
        self._first = False
        self.count += 1


class ExportWriter:
    """A single-chat export (`account=False`) or a full-account export with `chats.list` / `left_chats.list`."""

    def __init__(self, root: Path, account: bool = False) -> None:
        self.root = root
        self.account = account
        root.mkdir(parents=True, exist_ok=True)
        self._fh = (root / "result.json").open("w", encoding="utf-8")
        self._chats = 0
        self._section: str | None = None
        if account:
            self._fh.write('{\n "about": "Here is the data you requested.",\n')
            self._fh.write(' "personal_information": {"user_id": 1, "first_name": "Investigator"}')

    @contextmanager
    def chat(self, bare_id: int, chat_type: str, name: str, left: bool = False) -> Iterator[ChatWriter]:
        if self.account:
            section = "left_chats" if left else "chats"
            if self._section != section:
                if self._section is not None:
                    self._fh.write("\n ]}")
                self._fh.write(f',\n "{section}": {{"about": "...", "list": [\n')
                self._section = section
                self._first_in_section = True
            if not self._first_in_section:
                self._fh.write(",\n")
            self._first_in_section = False
        self._chats += 1
        header = {"name": name, "type": chat_type, "id": bare_id}
        self._fh.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "messages": [')
        media_dir = f"chats/chat_{self._chats:03d}/" if self.account else ""
        writer = ChatWriter(self._fh, self.root, media_dir)
        yield writer
        self._fh.write("\n ]}")

    def close(self) -> None:
        if self.account and self._section is not None:
            self._fh.write("\n ]}\n}")
        elif self.account:
            self._fh.write("\n}")
        self._fh.close()

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
