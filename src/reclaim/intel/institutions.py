"""`reclaim institutions`: schools and universities named by rooms, with rooms, accounts and media counted per name.

A room is counted for an institution when a title it carried, its description, or a message in it names the
institution; each count carries its mentions (where, which message, the text as written) as its reasons.
Accounts and media are those of rooms whose title or description names it (the room is *about* that school),
plus the authors of messages naming it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from reclaim.intel.institutions_text import KiwiCheck, find_institutions
from reclaim.store.room_tables import Message, RoomSnapshot, RoomTitle
from reclaim.store.tables import Room, Sighting

MAX_MENTIONS = 20
BATCH = 5000


def list_institutions(session: Session, scan_messages: bool = True, use_kiwi: bool = True) -> list[dict[str, Any]]:
    """Institutions by rooms naming them; Kiwi vets abbreviations when kiwipiepy is installed and `use_kiwi`."""
    rooms = {rid: pid for rid, pid in session.execute(select(Room.id, Room.platform_id))}
    mentions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    mention_count: dict[str, int] = defaultdict(int)
    about_rooms: dict[str, set[int]] = defaultdict(set)
    any_rooms: dict[str, set[int]] = defaultdict(set)
    authors: dict[str, set[int]] = defaultdict(set)
    names: dict[str, str] = {}
    check = KiwiCheck().is_ending if use_kiwi and KiwiCheck.available() else None

    def note(canon: str, level: str, room_id: int, doc: dict[str, Any]) -> None:
        names[canon] = level
        mention_count[canon] += 1
        any_rooms[canon].add(room_id)
        if len(mentions[canon]) < MAX_MENTIONS:
            mentions[canon].append({"room": rooms[room_id], **doc})

    titles = {(rid, t) for rid, t in session.execute(select(RoomTitle.room_id, RoomTitle.title))}
    titles |= {(rid, name) for rid, name in session.execute(select(Room.id, Room.name)) if name}
    for room_id, title in sorted(titles):
        for m in find_institutions(title, check):
            note(m.canonical, m.level, room_id, {"where": "title", "text": m.surface, "title": title})
            about_rooms[m.canonical].add(room_id)
    for room_id, desc in session.execute(
        select(RoomSnapshot.room_id, RoomSnapshot.about).where(RoomSnapshot.about.is_not(None))
    ):
        for m in find_institutions(desc or "", check):
            note(m.canonical, m.level, room_id, {"where": "description", "text": m.surface})
            about_rooms[m.canonical].add(room_id)
    if scan_messages:
        stmt = select(Message.room_id, Message.message_id, Message.actor_id, Message.text).where(Message.text != "")
        for room_id, message_id, actor_id, text in session.execute(stmt.execution_options(yield_per=BATCH)):
            for m in find_institutions(text, check):
                note(m.canonical, m.level, room_id, {"where": "message", "message_id": message_id, "text": m.surface})
                if actor_id is not None:
                    authors[m.canonical].add(actor_id)
    out = []
    for canon in sorted(any_rooms, key=lambda c: (-len(any_rooms[c]), c)):
        about = sorted(about_rooms[canon])
        members: set[int] = set(authors[canon])
        media = 0
        if about:
            members |= set(
                session.scalars(
                    select(Message.actor_id).where(Message.room_id.in_(about), Message.actor_id.is_not(None)).distinct()
                )
            )
            media = int(
                session.scalar(select(func.count(distinct(Sighting.media_id))).where(Sighting.room_id.in_(about))) or 0
            )
        out.append(
            {
                "institution": canon,
                "level": names[canon],
                "rooms": len(any_rooms[canon]),
                "room_ids": sorted(rooms[r] for r in any_rooms[canon]),
                "rooms_named_for_it": len(about),
                "actors": len(members),
                "media": media,
                "mentions": mention_count[canon],
                "evidence": mentions[canon],
            }
        )
    return out
