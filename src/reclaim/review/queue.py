"""Listing matches with where their media was sighted, in the shape `reclaim matches --json` promises."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks import get_bank
from reclaim.errors import ConfigError
from reclaim.model import MATCH_STATUSES
from reclaim.rooms.listings import sources_of
from reclaim.store.tables import Bank, BankEntry, Match, Media, Room, Sighting

PAGE = 1000


def list_matches(session: Session, status: str | None = None, bank: str | None = None) -> list[dict[str, Any]]:
    if status is not None and status not in MATCH_STATUSES:
        raise ConfigError(f"status must be one of {', '.join(MATCH_STATUSES)}, got '{status}'")
    stmt = (
        select(Match, Media.sha256, Bank.name)
        .join(Media, Media.id == Match.media_id)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .order_by(Match.id)
    )
    if status is not None:
        stmt = stmt.where(Match.status == status)
    if bank is not None:
        stmt = stmt.where(Bank.id == get_bank(session, bank).id)
    rows = session.execute(stmt).all()
    sightings = _sightings(session, {m.media_id for m, _, _ in rows})
    derived = sources_of(session, {m.media_id for m, _, _ in rows})
    return [
        {
            "id": m.id,
            "media_sha256": sha,
            "bank": bank_name,
            "bank_entry_id": m.bank_entry_id,
            "method": m.method,
            "distance": m.distance,
            "score": m.score,
            # Verified derivatives: the part of the enrolled original (x, y, w, h, its pixels) the media shows.
            "region": (m.details or {}).get("region") if m.method == "verified" else None,
            "status": m.status,
            "sightings": sightings.get(m.media_id, []),
            # Request → output links: the photo this media was made from, which leads to the person to protect.
            "derived_from": derived.get(m.media_id, []),
            **_face_fields(m),
        }
        for m, sha, bank_name in rows
    ]


def _face_fields(m: Match) -> dict[str, Any]:
    """Face matches also say which case, where the face is (x, y, w, h) and, in a video, when (seconds)."""
    if m.method != "face":
        return {}
    details = m.details or {}
    return {"case": details.get("case"), "box": details.get("box"), "time_s": details.get("time_s")}


def _sightings(session: Session, media_ids: set[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ids = sorted(media_ids)
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        stmt = (
            select(Sighting.media_id, Room.platform_id, Sighting.path, Sighting.message_id)
            .join(Room, Room.id == Sighting.room_id)
            .where(Sighting.media_id.in_(chunk))
            .order_by(Sighting.id)
        )
        for media_id, room, path, message_id in session.execute(stmt):
            out[media_id].append({"room": room, "path": path, "message_id": message_id})
    return out
