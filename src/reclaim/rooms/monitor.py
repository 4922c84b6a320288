"""Live monitoring of Telegram rooms through a client shaped like Telethon's.

Per room: resolve it (an invite link is inspected with checkChatInvite, never joined), snapshot
`participants_count` from the full chat info, catch up on history from the room's checkpoint with
`iter_messages(reverse=True)`, then poll for new messages. Media is downloaded into memory one item at a time,
hashed and matched by the same pipeline as exports; the bytes are dropped unless an evidence hold keeps them.
FloodWait is slept and the request resumed; a media download whose file reference expired re-fetches the
message once. The checkpoint advances only after a batch is committed, so a restart continues where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import select
from telethon import errors
from telethon.tl import functions, types

from reclaim.errors import TelegramError
from reclaim.matcher import BankMatcher
from reclaim.matcher_cache import index_dir
from reclaim.pipeline import watch_after_ingest
from reclaim.rooms import recorder
from reclaim.rooms.telegram_ingest import ChatIngest, TelegramSummary
from reclaim.settings import Settings
from reclaim.sources.telegram import TelegramMessage
from reclaim.sources.telegram_live import chat_info, has_media, parse_room, to_message
from reclaim.store.db import Store
from reclaim.store.room_tables import MonitorCheckpoint
from reclaim.store.tables import utcnow

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class TelegramClientLike(Protocol):
    """The part of Telethon's TelegramClient the monitor uses; tests pass a fake yielding Telethon's own types."""

    async def get_entity(self, entity: Any) -> Any: ...

    def iter_messages(self, entity: Any, *, min_id: int = 0, reverse: bool = False) -> AsyncIterator[Any]: ...

    async def get_messages(self, entity: Any, *, ids: int) -> Any: ...

    async def download_media(self, message: Any, file: type[bytes]) -> bytes | None: ...

    async def __call__(self, request: Any) -> Any: ...


@dataclass
class InviteReport:
    """What checkChatInvite said about an invite link, without joining."""

    ref: str
    title: str | None
    participants_count: int | None
    member: bool


@dataclass
class MonitorResult:
    summary: TelegramSummary
    invites: list[InviteReport]


class Monitor:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        client: TelegramClientLike,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store, self.settings, self.client, self.sleep = store, settings, client, sleep
        self.summary = TelegramSummary()
        self.actors = recorder.ActorCache()
        with store.transaction() as session:
            self.matcher = BankMatcher.load(session, cache_dir=index_dir(settings))
        self.invites: list[InviteReport] = []

    async def run(
        self,
        refs: list[str],
        since: int | None = None,
        follow: bool = True,
        poll_s: float = 30.0,
        rounds: int | None = None,
    ) -> MonitorResult:
        """Catch up every room, then (with `follow`) poll for new messages; `rounds` bounds the polling (tests)."""
        rooms: list[tuple[Any, ChatIngest]] = []
        for ref in refs:
            resolved = await self._resolve(ref)
            if resolved is None:
                continue
            entity, username = resolved
            chat = ChatIngest(
                self.store, self.settings, self.matcher, self.summary, self.actors, chat_info(entity), username
            )
            await self._snapshot(entity, chat.room_id)
            if since is not None:
                self._save_checkpoint(chat.room_id, since, force=True)
            rooms.append((entity, chat))
        done = 0
        while True:
            for entity, chat in rooms:
                await self._catch_up(entity, chat)
            self.summary.reupload_alerts += watch_after_ingest(self.store)
            done += 1
            if not follow or (rounds is not None and done >= rounds):
                break
            await self.sleep(poll_s)
        return MonitorResult(self.summary, self.invites)

    async def _resolve(self, ref: str) -> tuple[Any, str | None] | None:
        query = parse_room(ref)
        if query.kind == "invite":
            info = await self._call(functions.messages.CheckChatInviteRequest(hash=str(query.value)))
            if isinstance(info, types.ChatInviteAlready):
                return info.chat, None
            chat = getattr(info, "chat", None)  # ChatInvitePeek: readable without joining
            title = getattr(info, "title", None) or getattr(chat, "title", None)
            count = getattr(info, "participants_count", None) or getattr(chat, "participants_count", None)
            self.invites.append(InviteReport(ref, title, count, member=chat is not None))
            if chat is None:
                log.info("telegram.invite_inspected", extra={"member": False})
                return None
            return chat, None
        try:
            entity = await self._call_entity(query.value if query.kind == "username" else int(query.value))
        except (ValueError, errors.RPCError) as exc:
            raise TelegramError(
                f"Telegram cannot find the room '{ref[:100]}' ({exc.__class__.__name__}); check the name or id, "
                "and that this account can see it."
            ) from exc
        return entity, getattr(entity, "username", None)

    async def _call_entity(self, value: Any) -> Any:
        while True:
            try:
                return await self.client.get_entity(value)
            except errors.FloodWaitError as exc:
                await self._flood(exc)

    async def _call(self, request: Any) -> Any:
        while True:
            try:
                return await self.client(request)
            except errors.FloodWaitError as exc:
                await self._flood(exc)

    async def _flood(self, exc: errors.FloodWaitError) -> None:
        log.info("telegram.flood_wait", extra={"seconds": exc.seconds})
        await self.sleep(float(exc.seconds) + 1.0)

    async def _snapshot(self, entity: Any, room_id: int) -> None:
        """participants_count and description from the full chat info; a refusal is not fatal."""
        try:
            if isinstance(entity, types.Channel):
                full = await self._call(functions.channels.GetFullChannelRequest(channel=entity))
            elif isinstance(entity, types.Chat):
                full = await self._call(functions.messages.GetFullChatRequest(chat_id=entity.id))
            else:
                return
        except errors.RPCError as exc:
            log.info("telegram.full_info_refused", extra={"error": exc.__class__.__name__})
            return
        info = full.full_chat
        count = getattr(info, "participants_count", None)
        if count is None and getattr(info, "participants", None) is not None:
            count = len(getattr(info.participants, "participants", []) or [])
        with self.store.transaction() as session:
            recorder.record_snapshot(session, room_id, count, getattr(info, "about", None))

    async def _catch_up(self, entity: Any, chat: ChatIngest) -> None:
        """Every message after the checkpoint, oldest first; FloodWait sleeps and restarts from the checkpoint."""
        while True:
            pending: list[TelegramMessage] = []
            last = self._checkpoint(chat.room_id)
            try:
                async for msg in self.client.iter_messages(entity, min_id=last, reverse=True):
                    if msg.id <= last:
                        continue
                    if has_media(msg):
                        data = await self._download(entity, msg)
                        pending.append(to_message(msg, partial(bytes, data) if data is not None else None))
                        self._flush(chat, pending)  # one media item in memory at a time
                    else:
                        pending.append(to_message(msg, None))
                        if len(pending) >= self.settings.telegram.batch_size:
                            self._flush(chat, pending)
                self._flush(chat, pending)
                return
            except errors.FloodWaitError as exc:
                self._flush(chat, pending)
                await self._flood(exc)

    async def _download(self, entity: Any, msg: Any) -> bytes | None:
        refreshed = False
        while True:
            try:
                data = await self.client.download_media(msg, file=bytes)
                return data if isinstance(data, bytes) else None
            except errors.FloodWaitError as exc:
                await self._flood(exc)
            except (errors.FileReferenceExpiredError, errors.FileReferenceInvalidError):
                if refreshed:
                    return None
                msg = await self.client.get_messages(entity, ids=msg.id)
                refreshed = True
                if msg is None:
                    return None

    def _flush(self, chat: ChatIngest, pending: list[TelegramMessage]) -> None:
        if not pending:
            return
        chat.add(pending)
        self._save_checkpoint(chat.room_id, max(m.message_id for m in pending))
        pending.clear()

    def _checkpoint(self, room_id: int) -> int:
        with self.store.transaction() as session:
            row = session.get(MonitorCheckpoint, room_id)
            return row.last_message_id if row is not None else 0

    def _save_checkpoint(self, room_id: int, message_id: int, force: bool = False) -> None:
        with self.store.transaction() as session:
            row = session.scalar(select(MonitorCheckpoint).where(MonitorCheckpoint.room_id == room_id))
            if row is None:
                session.add(MonitorCheckpoint(room_id=room_id, last_message_id=message_id))
            elif force or message_id > row.last_message_id:
                row.last_message_id = message_id
                row.updated_at = utcnow()


SESSION_NAME = "telegram"


def session_path(settings: Settings) -> str:
    """The Telethon session lives in the workspace, readable by its owner only (it is a login)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / f"{SESSION_NAME}.session"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return str(settings.home / SESSION_NAME)


async def monitor_live(
    store: Store, settings: Settings, refs: list[str], since: int | None, follow: bool, poll_s: float
) -> MonitorResult:
    """Log in with the workspace's session (asking for the phone code on first use) and monitor `refs`."""
    from telethon import TelegramClient

    if settings.telegram.api_id is None or not settings.telegram.api_hash:
        raise TelegramError(
            "live monitoring needs a Telegram API id and hash from https://my.telegram.org: set RECLAIM_TG_API_ID and "
            "RECLAIM_TG_API_HASH, or api_id / api_hash under [telegram] in reclaim.toml."
        )
    client = TelegramClient(session_path(settings), settings.telegram.api_id, settings.telegram.api_hash)
    await client.start()
    try:
        return await Monitor(store, settings, client).run(refs, since, follow, poll_s)
    finally:
        await client.disconnect()
