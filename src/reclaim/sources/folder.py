"""A folder of files as a source: every image and video below it, in a stable order, never outside it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from reclaim.errors import MediaTooLarge, ReclaimError
from reclaim.media.sniff import kind_from_bytes, kind_from_name
from reclaim.model import MediaType
from reclaim.sources.base import Observation, RoomRef, SkippedItem

FOLDER_PLATFORM = "folder"


class FolderSource:
    def __init__(self, root: str | Path, room_name: str | None = None, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ReclaimError(f"'{root}' is not a folder; give the folder that holds the media to ingest.")
        self._real_root = self.root.resolve()
        # A named room is stable wherever the folder is mounted; an unnamed one is keyed by its absolute path.
        platform_id = room_name or str(self._real_root)
        self.room = RoomRef(FOLDER_PLATFORM, platform_id, room_name or self._real_root.name)
        self._max_bytes = max_bytes

    @property
    def name(self) -> str:
        return f"folder:{self.room.platform_id}"

    def observations(self) -> Iterator[Observation | SkippedItem]:
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                rel = path.relative_to(self.root).as_posix()
                item = self._observe(path, rel)
                if item is not None:
                    yield item

    def _observe(self, path: Path, rel: str) -> Observation | SkippedItem | None:
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(self._real_root):
                return SkippedItem(self.room, rel, "symbolic link to a place outside the folder; not read")
        kind: MediaType | None = kind_from_name(path.name)
        if kind is None:
            try:
                with path.open("rb") as fh:
                    kind = kind_from_bytes(fh.read(16))
            except OSError:
                return None  # not media by name and unreadable: not ours to report
            if kind is None:
                return None
        return Observation(
            room=self.room,
            locator=rel,
            read=partial(_read_file, path, self._max_bytes),
            path=rel,
            media_type=kind,
        )


def _read_file(path: Path, max_bytes: int | None) -> bytes:
    if max_bytes is not None:
        size = path.stat().st_size
        if size > max_bytes:
            raise MediaTooLarge(f"the file is {size:,} bytes, over the limit of {max_bytes:,} bytes")
    return path.read_bytes()
