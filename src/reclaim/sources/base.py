"""The `Source` interface: a stream of observations, each able to read its own bytes once asked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from reclaim.model import MediaType


@dataclass(frozen=True, slots=True)
class RoomRef:
    """Identifies a room on its platform; `platform_id` is stable, `name` is for people."""

    platform: str
    platform_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Observation:
    """Media seen at one place. `read()` returns its bytes or raises a ReclaimError/OSError for that item only."""

    room: RoomRef
    locator: str
    read: Callable[[], bytes]
    path: str | None = None
    message_id: int | None = None
    media_type: MediaType | None = None
    # When the platform says the message was posted (UTC); None for folders.
    posted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """Something a source refused before reading (e.g. a link leaving the folder), with the reason."""

    room: RoomRef
    locator: str
    reason: str


class Source(Protocol):
    """Yields observations (and items it had to skip) in a stable order, so an interrupted ingest can resume."""

    @property
    def name(self) -> str: ...

    def observations(self) -> Iterator[Observation | SkippedItem]: ...
