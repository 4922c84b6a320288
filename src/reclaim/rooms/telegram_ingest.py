"""Telegram into the store: chats become rooms, messages are recorded, media runs through the ingest pipeline.

Shared by the export reader and the live monitor. Messages are committed in batches before their media; media
is then hashed and matched one item per transaction, exactly as a folder ingest does, and linked to earlier
media by the request → output rules. A run killed at any point and run again reaches the same state: recorded
messages are skipped, and media not yet marked hashed or missing is processed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.errors import ExportFormatError
from reclaim.matcher import BankMatcher
from reclaim.matcher_cache import index_dir
from reclaim.pipeline import IngestSummary, ingest_observation, watch_after_ingest
from reclaim.rooms import recorder
from reclaim.rooms.pairs import PairDetector, PairLink, Posted
from reclaim.settings import Settings
from reclaim.sources.base import Observation, RoomRef
from reclaim.sources.telegram import ChatInfo, TelegramMessage
from reclaim.sources.telegram_export import BadMessage, ChatStart, TelegramExport
from reclaim.store import records
from reclaim.store.db import Store
from reclaim.store.room_tables import Actor, MediaLink, Message, MessageMedia

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass
class TelegramSummary(IngestSummary):
    """A folder ingest's summary plus what only chats have."""

    rooms: int = 0
    messages: int = 0
    missing_media: int = 0
    pairs: int = 0
    room_ids: list[str] = field(default_factory=list)
    # Why the run stopped early (a damaged result.json); what came before was recorded.
    incomplete: str | None = None

    def to_json(self) -> dict[str, Any]:
        return super().to_json() | {
            "rooms": self.rooms,
            "messages": self.messages,
            "missing_media": self.missing_media,
            "pairs": self.pairs,
            "incomplete": self.incomplete,
        }


Progress = Callable[[TelegramSummary], None]


class ChatIngest:
    """Records one chat's messages in batches and runs their media; the export reader and the monitor share it."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        matcher: BankMatcher,
        summary: TelegramSummary,
        actors: recorder.ActorCache,
        chat: ChatInfo,
        username: str | None = None,
    ) -> None:
        self.store, self.settings, self.matcher, self.summary, self.actors = store, settings, matcher, summary, actors
        self.chat = chat
        self.ref: RoomRef = recorder.room_ref(chat)
        self.source_name = f"telegram:{chat.platform_id}"
        self.rooms: dict[RoomRef, int] = {}
        with store.transaction() as session:
            self.room_id = recorder.ensure_chat(session, chat, username)
        self.rooms[self.ref] = self.room_id
        self.pairs = PairDetector(settings.telegram.pair_window_s)
        summary.rooms += 1
        summary.room_ids.append(chat.platform_id)

    def add(self, messages: Sequence[TelegramMessage]) -> None:
        """Record the batch, then hash and match each message's media that is not yet done."""
        if not messages:
            return
        with self.store.transaction() as session:
            new = recorder.record_messages(session, self.room_id, messages, self.actors)
            ids = [m.message_id for m in messages]
            done = recorder.media_status(session, self.room_id, ids)
            linked = recorder.linked_outputs(session, self.room_id, ids)
        self.summary.messages += len(new)
        new_ids = {m.message_id for m in new}
        for m in messages:
            if m.media is None:
                continue
            status = done.get(m.message_id)
            if m.media.read is None:
                if m.message_id in new_ids:
                    self.summary.missing_media += 1
                continue
            self.summary.files += 1
            if status is not None and status[0] == "hashed" and status[1] is not None:
                # Done in an earlier run: only the pair detector's history needs it, in order.
                link = self.pairs.observe(m, status[1], self._lookup)
                if link is not None and m.message_id not in linked:
                    with self.store.transaction() as session:
                        self.summary.pairs += _save_link(session, self.room_id, link)
                continue
            self._media(m)

    def _lookup(self, message_id: int) -> Posted | None:
        with self.store.transaction() as session:
            return _posted(session, self.room_id, message_id)

    def _media(self, m: TelegramMessage) -> None:
        """Hash and match through the pipeline, then record the outcome and any request → output link at once."""
        assert m.media is not None and m.media.read is not None
        obs = Observation(
            room=self.ref,
            locator=str(m.message_id),
            read=m.media.read,
            path=m.media.locator,
            message_id=m.message_id,
            media_type=m.media.media_type,
            posted_at=m.posted_at,
        )
        errors_before = len(self.summary.errors)
        media_id = ingest_observation(
            self.store, self.source_name, obs, self.settings, self.matcher, self.rooms, self.summary
        )
        reason = self.summary.errors[-1]["reason"] if len(self.summary.errors) > errors_before else None
        if reason is not None:
            self.summary.errors[-1]["path"] = f"{self.chat.platform_id}/{m.message_id} {m.media.locator}"[:300]
        with self.store.transaction() as session:
            recorder.set_media(session, self.room_id, m, media_id, reason)
            if media_id is not None:
                link = self.pairs.observe(m, media_id, lambda mid: _posted(session, self.room_id, mid))
                if link is not None:
                    self.summary.pairs += _save_link(session, self.room_id, link)


def _posted(session: Session, room_id: int, message_id: int) -> Posted | None:
    row = session.execute(
        select(MessageMedia.media_id, Message.posted_at, Actor.platform_id)
        .join(Message, (Message.room_id == MessageMedia.room_id) & (Message.message_id == MessageMedia.message_id))
        .outerjoin(Actor, Actor.id == Message.actor_id)
        .where(
            MessageMedia.room_id == room_id,
            MessageMedia.message_id == message_id,
            MessageMedia.status == "hashed",
        )
    ).first()
    if row is None or row[0] is None:
        return None
    posted = row[1].replace(tzinfo=UTC) if row[1] is not None and row[1].tzinfo is None else row[1]
    return Posted(message_id, row[0], posted, row[2])


def _save_link(session: Session, room_id: int, link: PairLink) -> int:
    """Store the link unless it is known; returns how many were added (0 or 1)."""
    exists = session.scalar(
        select(MediaLink.id).where(
            MediaLink.media_id == link.media_id,
            MediaLink.source_media_id == link.source_media_id,
            MediaLink.room_id == room_id,
        )
    )
    if exists is not None:
        return 0
    session.add(
        MediaLink(
            media_id=link.media_id,
            source_media_id=link.source_media_id,
            room_id=room_id,
            message_id=link.message_id,
            source_message_id=link.source_message_id,
            rule=link.rule,
            evidence=link.evidence,
        )
    )
    return 1


def ingest_export(
    store: Store, export: TelegramExport, settings: Settings, progress: Progress | None = None
) -> TelegramSummary:
    """Every chat of a Telegram Desktop export: rooms, titles, actors, messages, media, pairs."""
    summary = TelegramSummary()
    with store.transaction() as session:
        matcher = BankMatcher.load(session, cache_dir=index_dir(settings))
    actors = recorder.ActorCache()
    chat: ChatIngest | None = None
    batch: list[TelegramMessage] = []

    def flush() -> None:
        if chat is not None and batch:
            chat.add(batch)
            batch.clear()
            if progress is not None:
                progress(summary)

    try:
        for event in export.events():
            if isinstance(event, ChatStart):
                flush()
                chat = ChatIngest(store, settings, matcher, summary, actors, event.chat)
            elif isinstance(event, BadMessage):
                _bad_message(store, event, summary)
            else:
                batch.append(event)
                if len(batch) >= BATCH:
                    flush()
    except ExportFormatError as exc:
        if chat is None:
            raise  # nothing was an export: nothing recorded, the caller reports it
        summary.incomplete = str(exc)
        summary.errors.append({"path": "result.json", "reason": str(exc)})
    flush()
    summary.reupload_alerts += watch_after_ingest(store)
    log.info("telegram.export_done", extra={"rooms": summary.rooms, "messages": summary.messages})
    return summary


def _bad_message(store: Store, bad: BadMessage, summary: TelegramSummary) -> None:
    with store.transaction() as session:
        room_id = records.ensure_room(session, recorder.room_ref(bad.chat))
        records.record_error(session, f"telegram:{bad.chat.platform_id}", bad.locator, bad.reason, room_id)
    summary.errors.append({"path": f"{bad.chat.platform_id}/{bad.locator}", "reason": bad.reason})
