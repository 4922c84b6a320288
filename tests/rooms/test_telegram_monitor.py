"""Live monitoring through the Telethon-shaped adapter, driven by a fake client that yields Telethon's own types.

Telegram is never contacted: the fake serves constructed `telethon.tl.patched.Message` objects, raises Telethon's
own FloodWaitError and FileReferenceExpiredError, and answers checkChatInvite without joining.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from telethon import errors, utils
from telethon._updates import EntityCache
from telethon.tl import functions, patched, types

from reclaim import synthetic
from reclaim.errors import TelegramError
from reclaim.rooms import listings
from reclaim.rooms.monitor import Monitor, session_path
from reclaim.settings import Settings
from reclaim.sources.telegram_live import parse_room
from reclaim.store.db import Store
from reclaim.store.room_tables import Message, MessageMedia, MonitorCheckpoint

T0 = datetime(2024, 8, 20, 12, 0, tzinfo=UTC)
KIM = types.User(id=101, first_name="Kim", last_name="K", username="kimk", bot=False, access_hash=1)
BOT = types.User(id=900, first_name="Deep", username="deepfakerbot", bot=True, access_hash=2)
ROOM = types.Channel(
    id=777, title="3반 지인방", photo=types.ChatPhotoEmpty(), date=T0, megagroup=True, access_hash=3, username=None
)


def _photo(pid: int) -> types.MessageMediaPhoto:
    size = types.PhotoSize(type="x", w=512, h=512, size=1000)
    return types.MessageMediaPhoto(
        photo=types.Photo(id=pid, access_hash=1, file_reference=b"r", date=T0, sizes=[size], dc_id=1)
    )


def _document(did: int, mime: str, attrs: list[Any]) -> types.MessageMediaDocument:
    doc = types.Document(
        id=did, access_hash=1, file_reference=b"r", date=T0, mime_type=mime, size=10, dc_id=1, attributes=attrs
    )
    return types.MessageMediaDocument(document=doc)


class FakeClient:
    """Telethon's client surface, in memory. `flood_after` raises FloodWait once after that many messages."""

    def __init__(self) -> None:
        self._self_id = 1
        self._mb_entity_cache = EntityCache()
        self.entities = {utils.get_peer_id(e): e for e in (KIM, BOT, ROOM)}
        self.messages: list[Any] = []
        self.media: dict[int, bytes] = {}
        self.expired: set[int] = set()
        self.flood_after: int | None = None
        self.requests: list[Any] = []
        self.min_ids: list[int] = []
        self.refetched: list[int] = []

    def add(self, msg: Any) -> None:
        msg._finish_init(self, self.entities, None)
        self.messages.append(msg)

    async def get_entity(self, entity: Any) -> Any:
        if entity in ("room777", 777, -1000000000777):
            return ROOM
        raise ValueError(f"no entity {entity}")

    async def iter_messages(self, entity: Any, *, min_id: int = 0, reverse: bool = False) -> AsyncIterator[Any]:
        assert entity is ROOM and reverse
        self.min_ids.append(min_id)
        for n, msg in enumerate(m for m in sorted(self.messages, key=lambda m: m.id) if m.id > min_id):
            if self.flood_after is not None and n == self.flood_after:
                self.flood_after = None
                raise errors.FloodWaitError(request=None, capture=7)
            yield msg

    async def get_messages(self, entity: Any, *, ids: int) -> Any:
        self.refetched.append(ids)
        self.expired.discard(ids)
        return next(m for m in self.messages if m.id == ids)

    async def download_media(self, message: Any, file: type[bytes]) -> bytes | None:
        assert file is bytes
        if message.id in self.expired:
            raise errors.FileReferenceExpiredError(request=None)
        return self.media.get(message.id)

    async def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        if isinstance(request, functions.channels.GetFullChannelRequest):
            return SimpleNamespace(full_chat=SimpleNamespace(participants_count=227_000, about="3반"))
        if isinstance(request, functions.messages.CheckChatInviteRequest):
            photo = types.PhotoEmpty(id=0)
            return types.ChatInvite(title="새 지인방", photo=photo, participants_count=1_234, color=0, megagroup=True)
        raise AssertionError(f"unexpected request {type(request).__name__}")


def world(client: FakeClient) -> dict[str, bytes]:
    her = synthetic.sample("astronaut")
    data = {
        "request": synthetic.jpeg_bytes(her, 92),
        "output": synthetic.jpeg_bytes(synthetic.reencode(her), 80),
        "video": synthetic.pattern_video(2),
    }
    room = types.PeerChannel(777)
    client.add(
        patched.MessageService(
            id=1,
            peer_id=room,
            date=T0,
            from_id=types.PeerUser(101),
            action=types.MessageActionChatEditTitle("3반 지인방"),
        )
    )
    mention = [types.MessageEntityMention(offset=4, length=5), types.MessageEntityHashtag(offset=10, length=3)]
    client.add(
        patched.Message(
            id=2,
            peer_id=room,
            date=T0 + timedelta(seconds=5),
            message="hey @kimk #3반",
            entities=mention,
            from_id=types.PeerUser(101),
        )
    )
    client.add(
        patched.Message(
            id=3,
            peer_id=room,
            date=T0 + timedelta(seconds=60),
            message="",
            from_id=types.PeerUser(101),
            media=_photo(1),
        )
    )
    client.add(
        patched.Message(
            id=4,
            peer_id=room,
            date=T0 + timedelta(seconds=90),
            message="done",
            from_id=types.PeerUser(900),
            media=_photo(2),
        )
    )
    video_attr = types.DocumentAttributeVideo(duration=2, w=192, h=144)
    client.add(
        patched.Message(
            id=5,
            peer_id=room,
            date=T0 + timedelta(seconds=120),
            message="",
            from_id=types.PeerUser(101),
            media=_document(3, "video/mp4", [video_attr]),
            reply_to=types.MessageReplyHeader(reply_to_msg_id=3),
        )
    )
    tgs = [types.DocumentAttributeSticker(alt="😀", stickerset=types.InputStickerSetEmpty())]
    client.add(
        patched.Message(
            id=6,
            peer_id=room,
            date=T0 + timedelta(seconds=130),
            message="",
            from_id=types.PeerUser(101),
            media=_document(4, "application/x-tgsticker", tgs),
        )
    )
    client.media.update({3: data["request"], 4: data["output"], 5: data["video"]})
    return data  # fmt: skip


def monitor(store: Store, settings: Settings, client: FakeClient, sleeps: list[float]) -> Monitor:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return Monitor(store, settings, client, sleep=sleep)


def test_catch_up_records_messages_media_pairs_and_survives_floodwait_and_expired_refs(
    store: Store, settings: Settings
) -> None:
    client = FakeClient()
    world(client)
    client.flood_after = 2
    client.expired.add(4)
    sleeps: list[float] = []
    result = asyncio.run(monitor(store, settings, client, sleeps).run(["-1000000000777"], follow=False))

    assert sleeps == [8.0]  # FloodWait of 7 s, slept with a second to spare, then resumed
    assert client.refetched == [4]  # the expired file reference was refreshed by re-fetching the message
    summary = result.summary
    assert (summary.rooms, summary.messages, summary.new_media, summary.pairs) == (1, 6, 3, 2)
    with store.transaction() as s:
        [room] = listings.list_rooms(s)
        checkpoint = s.get(MonitorCheckpoint, 1)
        statuses = dict(s.execute(select(MessageMedia.message_id, MessageMedia.status)).all())
        kinds = dict(s.execute(select(Message.message_id, Message.action)).all())
        entities = s.scalar(select(Message.entities).where(Message.message_id == 2))
        actors = {a["id"]: a for a in listings.list_actors(s)}
        pairs = {p["rule"]: p for p in listings.list_pairs(s)}
    assert room["id"] == "-100777" and room["type"] == "private_supergroup"
    assert room["participants_count"] == 227_000
    assert room["titles"][0]["title"] == "3반 지인방"
    assert checkpoint is not None and checkpoint.last_message_id == 6
    assert statuses == {3: "hashed", 4: "hashed", 5: "hashed", 6: "missing"}
    assert kinds[1] == "edit_group_title"
    assert [(e["type"], e["text"]) for e in entities] == [("mention", "@kimk"), ("hashtag", "#3반")]
    assert actors["user900"]["is_bot"] and actors["user101"]["names"] == ["Kim K"]
    assert pairs["bot_window"]["source"]["message_id"] == 3 and pairs["bot_window"]["output"]["message_id"] == 4
    assert pairs["reply"]["output"]["message_id"] == 5
    assert not (settings.home / "blobs").exists()  # hash-only: no bytes kept without a hold


def test_restart_continues_from_the_checkpoint_and_follow_picks_up_new_messages(
    store: Store, settings: Settings
) -> None:
    client = FakeClient()
    world(client)
    asyncio.run(monitor(store, settings, client, []).run(["-1000000000777"], follow=False))
    assert client.min_ids == [0]

    later = FakeClient()
    world(later)
    sleeps: list[float] = []
    mon = monitor(store, settings, later, sleeps)

    async def sleep_and_post(seconds: float) -> None:
        sleeps.append(seconds)
        new = patched.Message(
            id=7,
            peer_id=types.PeerChannel(777),
            date=T0 + timedelta(hours=1),
            message="new",
            from_id=types.PeerUser(101),
        )
        later.add(new)

    mon.sleep = sleep_and_post
    result = asyncio.run(mon.run(["-1000000000777"], follow=True, poll_s=5, rounds=2))
    assert later.min_ids == [6, 6]  # the restart asked only for what came after the checkpoint
    assert sleeps == [5]
    assert result.summary.messages == 1 and result.summary.new_media == 0
    with store.transaction() as s:
        assert s.get(MonitorCheckpoint, 1).last_message_id == 7  # type: ignore[union-attr]


def test_since_overrides_the_checkpoint(store: Store, settings: Settings) -> None:
    client = FakeClient()
    world(client)
    result = asyncio.run(monitor(store, settings, client, []).run(["-1000000000777"], since=4, follow=False))
    assert client.min_ids == [4]
    assert result.summary.messages == 2


def test_invite_links_are_inspected_never_joined(store: Store, settings: Settings) -> None:
    client = FakeClient()
    result = asyncio.run(monitor(store, settings, client, []).run(["https://t.me/+AbCdEf123"], follow=False))
    [invite] = result.invites
    assert (invite.title, invite.participants_count, invite.member) == ("새 지인방", 1_234, False)
    assert [type(r).__name__ for r in client.requests] == ["CheckChatInviteRequest"]
    assert result.summary.rooms == 0


def test_unknown_room_is_a_clear_error(store: Store, settings: Settings) -> None:
    with pytest.raises(TelegramError, match="cannot find the room"):
        asyncio.run(monitor(store, settings, FakeClient(), []).run(["@nosuchroom"], follow=False))


@pytest.mark.parametrize(
    ("ref", "kind", "value"),
    [
        ("@room_name", "username", "room_name"),
        ("https://t.me/room_name", "username", "room_name"),
        ("t.me/+AbC-d_1", "invite", "AbC-d_1"),
        ("https://t.me/joinchat/AbCd", "invite", "AbCd"),
        ("-1001234567", "id", -1001234567),
    ],
)
def test_room_references(ref: str, kind: str, value: object) -> None:
    query = parse_room(ref)
    assert (query.kind, query.value) == (kind, value)


def test_bad_room_reference_is_refused() -> None:
    with pytest.raises(TelegramError, match="not a room"):
        parse_room("../../etc/passwd")


def test_session_file_is_private(tmp_path: Path, settings: Settings) -> None:
    path = session_path(settings)
    mode = stat.S_IMODE(os.stat(path + ".session").st_mode)
    assert mode == 0o600
