"""Small, idempotent writes the services compose inside their transactions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from reclaim.matching.decide import Candidate
from reclaim.model import HashedMedia
from reclaim.sources.base import Observation, RoomRef
from reclaim.store.tables import IngestError, Match, Media, Room, Sighting, Signal, utcnow

VALUE_KEY_CHARS = 64


def value_key(value: str) -> str:
    """The indexed prefix of a signal value (whole value for every fixed-size hash)."""
    return value[:VALUE_KEY_CHARS]


def ensure_room(session: Session, ref: RoomRef) -> int:
    room_id = session.scalar(select(Room.id).where(Room.platform == ref.platform, Room.platform_id == ref.platform_id))
    if room_id is not None:
        return room_id
    room = Room(platform=ref.platform, platform_id=ref.platform_id, name=ref.name)
    session.add(room)
    session.flush()
    return room.id


def ensure_sighting(session: Session, media_id: int, room_id: int, obs: Observation) -> bool:
    """Record that media was seen at `obs`; False when that sighting was already known."""
    exists = session.scalar(
        select(Sighting.id).where(
            Sighting.media_id == media_id, Sighting.room_id == room_id, Sighting.locator == obs.locator
        )
    )
    if exists is not None:
        return False
    session.add(
        Sighting(media_id=media_id, room_id=room_id, locator=obs.locator, path=obs.path, message_id=obs.message_id)
    )
    return True


def insert_media(session: Session, hashed: HashedMedia) -> int:
    """Media and its signals in two statements (Core inserts: this runs once per new item of every ingest)."""
    media_id = session.execute(
        insert(Media)
        .values(
            sha256=hashed.sha256,
            md5=hashed.md5,
            media_type=hashed.media_type,
            size_bytes=hashed.size_bytes,
            width=hashed.width,
            height=hashed.height,
            duration_s=hashed.duration_s,
            first_seen_at=utcnow(),
        )
        .returning(Media.id)
    ).scalar_one()
    rows = [
        {
            "media_id": media_id,
            "signal_type": s.signal_type,
            "value": s.value,
            "value_key": value_key(s.value),
            "quality": s.quality,
        }
        for s in hashed.signals.values()
    ]
    if rows:
        session.execute(insert(Signal), rows)
    return media_id


def insert_matches(session: Session, media_id: int, candidates: Iterable[Candidate]) -> int:
    """Store new matches; an existing (media, entry, method) match is left as the reviewer left it."""
    added = 0
    for c in candidates:
        exists = session.scalar(
            select(Match.id).where(
                Match.media_id == media_id, Match.bank_entry_id == c.entry_id, Match.method == c.method
            )
        )
        if exists is None:
            session.add(
                Match(
                    media_id=media_id,
                    bank_entry_id=c.entry_id,
                    method=c.method,
                    distance=c.distance,
                    score=c.score,
                    details=dict(c.details) if c.details else None,
                )
            )
            added += 1
    return added


def record_error(session: Session, source: str, locator: str, reason: str, room_id: int | None) -> None:
    row = session.scalar(select(IngestError).where(IngestError.source == source, IngestError.locator == locator))
    if row is None:
        session.add(IngestError(source=source, locator=locator, reason=reason, room_id=room_id))
    else:
        row.reason = reason
        row.last_seen_at = utcnow()
        row.occurrences += 1


def clear_error(session: Session, source: str, locator: str) -> None:
    """An item that now ingests cleanly no longer carries its old error."""
    session.execute(delete(IngestError).where(IngestError.source == source, IngestError.locator == locator))
