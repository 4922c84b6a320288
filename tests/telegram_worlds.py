"""A small Telegram Desktop export with every case the reader must handle (synthetic, non-sexual images only).

A basic group "지인방" created by Kim, upgraded to the supergroup -100777 and renamed; Kim posts a photo of "her"
(scikit-image's astronaut), a bot answers with a derivative; Lee replies to Kim's photo with another one; then
placeholders, a video, a sticker, a voice message, hostile paths, a missing file, a corrupt photo, an unknown
message type and a future field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reclaim import synthetic
from reclaim.synthetic_telegram import ChatWriter, ExportWriter, message, service

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
CHAT_ID = 777
PLATFORM_ID = "-100777"
KIM, LEE, BOT = "user101", "user102", "user900"


@dataclass
class World:
    root: Path
    her: Path  # her own photo, outside the export, to enroll
    outside: Path  # a valid photo outside the export that hostile paths point at
    expected_messages: int = 0
    sha: dict[str, str] = field(default_factory=dict)


def write_world(base: Path, extra_messages: int = 0) -> World:
    """The export under base/export; `extra_messages` appends later messages (a later export of the same room)."""
    base.mkdir(parents=True, exist_ok=True)
    her = synthetic.sample("astronaut")
    world = World(root=base / "export", her=base / "her.jpg", outside=base / "secret.jpg")
    world.her.write_bytes(synthetic.jpeg_bytes(her, 95))
    world.outside.write_bytes(synthetic.jpeg_bytes(synthetic.sample("rocket"), 90))
    with ExportWriter(world.root) as export, export.chat(CHAT_ID, "private_supergroup", "3반 지인방 v2") as chat:
        _old_group(chat)
        _supergroup(chat, world)
        for i in range(extra_messages):
            chat.write(message(1000 + i, T0 + 10_000 + i, "Lee", LEE, f"later {i}"))
        world.expected_messages = chat.count - 1  # the last entry has no numeric id
    return world


def _old_group(chat: ChatWriter) -> None:
    """The basic group's history comes first, with negative ids."""
    chat.write(service(-3, T0, "Kim", KIM, "create_group", title="지인방", members=["Kim", "Lee"]))
    chat.write(message(-2, T0 + 60, "Kim", KIM, "welcome"))
    chat.write(service(-1, T0 + 120, "Kim", KIM, "migrate_to_supergroup"))


def _supergroup(chat: ChatWriter, world: World) -> None:
    her = synthetic.sample("astronaut")
    photo = chat.media("photo_1.jpg", synthetic.jpeg_bytes(her, 92))
    output = chat.media("photo_2.jpg", synthetic.jpeg_bytes(synthetic.reencode(her), 80))
    reply = chat.media("photo_3.jpg", synthetic.jpeg_bytes(synthetic.caption(synthetic.sample("camera")), 85))
    video = chat.media("clip.mp4", synthetic.pattern_video(3), folder="video_files")
    sticker = chat.media("sticker.webp", _webp(), folder="stickers")
    corrupt = chat.media("broken.jpg", synthetic.jpeg_bytes(synthetic.sample("coffee"))[:2000])
    group_photo = chat.media("photo_9.jpg", synthetic.jpeg_bytes(synthetic.sample("chelsea"), 90))
    (world.root / "photos" / "escape.jpg").symlink_to(world.outside)
    t = T0 + 3600
    chat.write(service(1, t, "Kim", KIM, "migrate_from_group", title="지인방"))
    chat.write(service(2, t + 10, "Kim", KIM, "edit_group_title", title="3반 지인방 v2"))
    chat.write(message(3, t + 100, "Kim", KIM, "make her", photo=photo, width=512, height=512))
    chat.write(message(4, t + 130, "DeepBot", BOT, "done", photo=output, width=512, height=512))
    chat.write(message(5, t + 200, "Lee", LEE, "mine", photo=reply, reply_to_message_id=3))
    chat.write(
        message(6, t + 300, "Lee", LEE, "", photo="(File not included. Change data exporting settings to download.)")
    )
    chat.write(
        message(
            7, t + 310, "Kim K.", KIM, "", file=video, thumbnail="video_files/clip.mp4_thumb.jpg",
            media_type="video_file", mime_type="video/mp4", duration_seconds=3, width=192, height=144,
        )
    )  # fmt: skip
    chat.write(message(8, t + 320, "Lee", LEE, "", file=sticker, media_type="sticker", sticker_emoji="😀"))
    chat.write(
        message(
            9, t + 330, "Lee", LEE, "", file="voice_messages/audio_1.ogg", media_type="voice_message",
            mime_type="audio/ogg", duration_seconds=2,
        )
    )  # fmt: skip
    chat.write(message(10, t + 340, "Lee", LEE, "", file="../secret.jpg", mime_type="image/jpeg"))
    chat.write(message(11, t + 350, "Lee", LEE, "", photo=str(world.outside)))
    chat.write(message(12, t + 360, "Lee", LEE, "", photo="photos/escape.jpg"))
    chat.write(message(13, t + 370, "Lee", LEE, "", photo="photos/not_there.jpg"))
    chat.write(message(14, t + 380, "Lee", LEE, "", photo=corrupt))
    chat.write({"id": 15, "type": "hologram", "date_unixtime": str(t + 390), "future_field": {"x": 1}})
    chat.write(
        message(
            16, t + 400, "Lee", LEE,
            ["see ", {"type": "mention", "text": "@kimk"}, " at ", {"type": "link", "text": "https://t.me/newroom"},
             " ", {"type": "hashtag", "text": "#3반"}],
            forwarded_from="Old Room", reactions=[{"type": "emoji", "count": 2, "emoji": "🔥"}],
            edited="2023-11-15T08:00:00", edited_unixtime=str(t + 500),
        )
    )  # fmt: skip
    chat.write(service(17, t + 410, "Kim K.", KIM, "edit_group_photo", photo=group_photo, width=300, height=300))
    chat.write({"id": "bad", "type": "message"})


def _webp() -> bytes:
    import io

    buf = io.BytesIO()
    synthetic.generated(5, (256, 256)).save(buf, format="WEBP", quality=80)
    return buf.getvalue()
