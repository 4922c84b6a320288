"""Telegram Desktop exports end to end on SQLite and PostgreSQL: rooms, titles, actors, messages, media, pairs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.telegram_worlds import BOT, KIM, LEE, PLATFORM_ID, T0, write_world

from reclaim import banks
from reclaim.errors import ExportFormatError
from reclaim.review.queue import list_matches
from reclaim.rooms import listings
from reclaim.rooms.telegram_ingest import ingest_export
from reclaim.settings import Settings
from reclaim.sources.telegram_export import TelegramExport
from reclaim.store.db import Store
from reclaim.store.room_tables import Actor, ActorName, MediaLink, Message, MessageMedia, RoomTitle
from reclaim.store.tables import IngestError, Match, Media, Room, Sighting
from reclaim.synthetic_telegram import ExportWriter, message

TABLES = (Room, RoomTitle, Actor, ActorName, Message, MessageMedia, MediaLink, Media, Sighting, Match, IngestError)


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as s:
        return {t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0) for t in TABLES}


def iso(unix: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def run(store: Store, settings: Settings, root: Path):  # type: ignore[no-untyped-def]
    return ingest_export(store, TelegramExport(root, settings.limits.max_bytes), settings)


def test_export_records_rooms_actors_messages_media_and_pairs(tmp_path: Path, store: Store, settings: Settings) -> None:
    world = write_world(tmp_path)
    with store.transaction() as s:
        banks.create_bank(s, "her", "protected")
        banks.add_files(s, "her", [world.her], settings.limits, None)

    summary = run(store, settings, world.root)
    doc = summary.to_json()
    assert (doc["rooms"], doc["messages"]) == (1, world.expected_messages)
    assert doc["new_media"] == 6  # photos 3, 4, 5, the video, the sticker, the group photo
    assert doc["missing_media"] == 1
    assert doc["pairs"] == 2
    bad = {e["path"].split(" ")[0]: e["reason"] for e in doc["errors"]}
    assert set(bad) == {f"{PLATFORM_ID}/{i}" for i in (10, 11, 12, 13, 14)} | {f"{PLATFORM_ID}/message"}
    assert "leaving its folder" in bad[f"{PLATFORM_ID}/10"]
    assert "absolute path" in bad[f"{PLATFORM_ID}/11"]
    assert "outside the export" in bad[f"{PLATFORM_ID}/12"]
    assert "not in the export folder" in bad[f"{PLATFORM_ID}/13"]

    with store.transaction() as s:
        # Hostile paths were never read: the outside photo is not among the media.
        outside_sha = hashlib.sha256(world.outside.read_bytes()).hexdigest()
        assert s.scalar(select(Media.id).where(Media.sha256 == outside_sha)) is None
        rooms = listings.list_rooms(s)
        actors = {a["id"]: a for a in listings.list_actors(s)}
        pairs = listings.list_pairs(s)
        matches = list_matches(s)
        msgs = {m.message_id: m for m in s.scalars(select(Message))}

    [room] = rooms
    assert room["id"] == PLATFORM_ID and room["platform"] == "telegram" and room["type"] == "private_supergroup"
    assert room["titles"] == [
        {"title": "지인방", "since": iso(T0)},
        {"title": "3반 지인방 v2", "since": iso(T0 + 3610)},
    ]
    assert room["first_message_at"] == iso(T0)  # the old basic group's first message belongs to the room
    assert room["last_message_at"] == iso(T0 + 3600 + 410)
    assert room["messages"] == world.expected_messages
    assert (room["media"], room["missing_media"], room["actors"]) == (6, 1, 3)
    assert room["migrated_from_group"] == {"title": "지인방", "at": iso(T0 + 3600), "old_group_messages": 3}

    assert actors[KIM]["names"] == ["Kim", "Kim K."]
    assert actors[BOT]["is_bot"] and not actors[KIM]["is_bot"]
    assert actors[LEE]["room_ids"] == [PLATFORM_ID]
    assert actors[KIM]["media"] == 3  # her photo, the video, the group photo

    by_rule = {p["rule"]: p for p in pairs}
    assert by_rule["bot_window"]["source"]["message_id"] == 3 and by_rule["bot_window"]["output"]["message_id"] == 4
    assert by_rule["bot_window"]["evidence"]["seconds"] == 30.0
    assert by_rule["bot_window"]["evidence"]["requester"] == KIM
    assert by_rule["reply"]["source"]["message_id"] == 3 and by_rule["reply"]["output"]["message_id"] == 5

    # The bot's output matches her photo and leads back to the request it was made from.
    output_match = next(m for m in matches if any(s["message_id"] == 4 for s in m["sightings"]))
    assert output_match["sightings"][0]["room"] == PLATFORM_ID
    assert output_match["derived_from"][0]["message_id"] == 3

    assert msgs[-2].posted_at is not None and msgs[-2].text == "welcome"
    assert msgs[15].kind == "hologram" and msgs[15].extra == {"future_field": {"x": 1}}
    assert msgs[16].text == "see @kimk at https://t.me/newroom #3반"
    assert [e["type"] for e in msgs[16].entities] == ["mention", "link", "hashtag"]
    assert msgs[16].forwarded_from == "Old Room" and msgs[16].reactions[0]["emoji"] == "🔥"
    assert msgs[16].edited_at is not None
    assert msgs[1].action == "migrate_from_group"
    assert msgs[5].reply_to == 3


def test_reingest_adds_nothing_and_a_later_export_adds_only_what_is_new(
    tmp_path: Path, store: Store, settings: Settings
) -> None:
    world = write_world(tmp_path / "first")
    run(store, settings, world.root)
    before = counts(store)
    again = run(store, settings, world.root)
    assert (again.messages, again.new_media, again.pairs, again.missing_media) == (0, 0, 0, 0)
    assert counts(store) == before

    later = write_world(tmp_path / "later", extra_messages=5)
    summary = run(store, settings, later.root)
    assert summary.messages == 5 and summary.new_media == 0
    after = counts(store)
    assert after["message"] == before["message"] + 5
    assert {k: v for k, v in after.items() if k != "message"} == {k: v for k, v in before.items() if k != "message"}


def test_account_export_has_many_chats_and_left_chats(tmp_path: Path, store: Store, settings: Settings) -> None:
    root = tmp_path / "account"
    with ExportWriter(root, account=True) as export:
        with export.chat(5001, "public_channel", "Channel A") as chat:
            chat.write(message(1, T0, "Channel A", "channel5001", "hello", author="admin"))
            photo = chat.media("photo_1.jpg", _jpeg(1))
            chat.write(message(2, T0 + 5, "Channel A", "channel5001", "", photo=photo))
        with export.chat(42, "private_group", "Basic") as chat:
            chat.write(message(1, T0, "Lee", LEE, "hi"))
        with export.chat(5002, "private_supergroup", "Left room", left=True) as chat:
            chat.write(message(7, T0, "Kim", KIM, "bye"))
    summary = run(store, settings, root)
    assert (summary.rooms, summary.messages, summary.new_media) == (3, 4, 1)
    with store.transaction() as s:
        rooms = {r["id"]: r for r in listings.list_rooms(s)}
        media_path = s.scalar(select(MessageMedia.path))
        author = s.scalar(select(Message.author).where(Message.author.is_not(None)))
    assert set(rooms) == {"-1005001", "-42", "-1005002"}
    assert rooms["-1005001"]["type"] == "public_channel" and rooms["-42"]["type"] == "private_group"
    assert media_path == "chats/chat_001/photos/photo_1.jpg"
    assert author == "admin"


def _jpeg(seed: int) -> bytes:
    from reclaim import synthetic

    return synthetic.jpeg_bytes(synthetic.generated(seed, (320, 240)), 85)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"hello": "world"}', "not a Telegram Desktop export"),
        (b"[1, 2, 3]", "not a Telegram Desktop export"),
    ],
)
def test_not_an_export_is_refused_and_nothing_is_stored(
    tmp_path: Path, store: Store, settings: Settings, content: bytes, needle: str
) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "result.json").write_bytes(content)
    before = counts(store)
    with pytest.raises(ExportFormatError, match=needle):
        run(store, settings, root)
    assert counts(store) == before


def test_a_truncated_export_keeps_what_came_before_and_says_so(
    tmp_path: Path, store: Store, settings: Settings
) -> None:
    world = write_world(tmp_path / "w")
    first = run(store, settings, world.root)
    assert first.incomplete is None
    data = (world.root / "result.json").read_bytes()
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "result.json").write_bytes(data[: len(data) // 2])
    summary = run(store, settings, cut)
    assert summary.incomplete is not None and "not valid JSON" in summary.incomplete
    assert summary.errors[-1]["path"] == "result.json"
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == world.expected_messages  # nothing lost


def test_missing_export_folder_or_result_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportFormatError, match="not a folder"):
        TelegramExport(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportFormatError, match=r"no result\.json"):
        TelegramExport(tmp_path / "empty")


def test_date_unixtime_not_local_date_gives_the_utc_time(tmp_path: Path) -> None:
    world = write_world(tmp_path)
    raw = json.loads((world.root / "result.json").read_text(encoding="utf-8"))
    first = raw["messages"][0]
    assert first["date"].startswith("2023-11-15T07:13")  # the exporter's local clock, 9 hours ahead
    events = list(TelegramExport(world.root).events())
    msg = next(e for e in events if getattr(e, "message_id", None) == -3)
    assert msg.posted_at is not None and msg.posted_at.isoformat() == "2023-11-14T22:13:20+00:00"


def test_absurd_ids_and_sizes_are_refused_per_item(tmp_path: Path, store: Store, settings: Settings) -> None:
    root = tmp_path / "absurd"
    with ExportWriter(root) as export, export.chat(31337, "private_supergroup", "room") as chat:
        chat.write(message(10**30, T0, "Kim", KIM, "id out of range"))
        chat.write(message(2, T0 + 1, "Kim", KIM, "reply to nowhere", reply_to_message_id=10**30, width=10**40))
        big = chat.media("photo_big.jpg", _jpeg(7))
        chat.write(message(3, T0 + 2, "Kim", KIM, "", photo=big))
    summary = ingest_export(store, TelegramExport(root, max_bytes=1_000), settings)
    reasons = {e["path"].split(" ")[0]: e["reason"] for e in summary.errors}
    assert "out of range" in reasons["-10031337/message"]
    assert "over the limit" in reasons["-10031337/3"]
    assert summary.messages == 2
    with store.transaction() as s:
        reply = s.scalar(select(Message.reply_to).where(Message.message_id == 2))
        status = s.scalar(select(MessageMedia.status).where(MessageMedia.message_id == 3))
    assert reply is None and status == "error"
