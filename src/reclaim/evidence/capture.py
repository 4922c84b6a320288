"""The capture entry the pipeline writes for every new sighting: where, when (posted, captured), what, by whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import __version__
from reclaim.evidence.holds import keep_if_held
from reclaim.evidence.log import append_entry
from reclaim.model import HashedMedia
from reclaim.settings import Settings
from reclaim.sources.base import Observation
from reclaim.store.evidence_tables import EvidenceHold
from reclaim.store.tables import Bank, BankEntry, Match, Media, Signal, utcnow


def log_capture(
    session: Session,
    settings: Settings,
    obs: Observation,
    media_id: int,
    sha256: str,
    md5: str,
    pdq: str | None,
    original_held: bool,
    captured_at: datetime | None = None,
) -> int:
    """Append a "capture" entry for a new sighting inside the caller's transaction; returns its leaf index."""
    body = {
        "media_id": media_id,
        "sha256": sha256,
        "md5": md5,
        "pdq": pdq,
        "room": {"platform": obs.room.platform, "platform_id": obs.room.platform_id, "name": obs.room.name},
        "locator": obs.locator,
        "message_id": obs.message_id,
        "posted_at": obs.posted_at,
        "captured_at": captured_at or utcnow(),
        "original_held": original_held,
        "tool": f"reclaim {__version__}",
        "operator": settings.operator,
    }
    return append_entry(session, "capture", body)


def any_hold(session: Session) -> bool:
    """One cheap query, so that workspaces without holds pay nothing more per item."""
    return session.scalar(select(EvidenceHold.id).where(EvidenceHold.removed_at.is_(None)).limit(1)) is not None


def case_ids_for_media(session: Session, media_id: int) -> list[int]:
    """Cases whose banks the media matched (any status: evidence is kept while a match waits for review)."""
    stmt = (
        select(Bank.case_id)
        .join(BankEntry, BankEntry.bank_id == Bank.id)
        .join(Match, Match.bank_entry_id == BankEntry.id)
        .where(Match.media_id == media_id, Bank.case_id.is_not(None))
        .distinct()
    )
    return [int(c) for c in session.scalars(stmt) if c is not None]


def capture_new(
    session: Session, settings: Settings, obs: Observation, media_id: int, hashed: HashedMedia, data: bytes
) -> None:
    """For media seen for the first time: keep the original if held, then log the capture."""
    held = any_hold(session) and keep_if_held(
        session, settings, obs.room, media_id, hashed.sha256, data, case_ids_for_media(session, media_id)
    )
    pdq = hashed.signals.get("pdq")
    log_capture(session, settings, obs, media_id, hashed.sha256, hashed.md5, pdq.value if pdq else None, held)


def capture_known(
    session: Session, settings: Settings, obs: Observation, media_id: int, data: bytes, new_sighting: bool
) -> None:
    """For media already known: keep the original if a hold now covers it; log the capture if the sighting is new."""
    media = session.get(Media, media_id)
    if media is None:
        return
    held = any_hold(session) and keep_if_held(
        session, settings, obs.room, media_id, media.sha256, data, case_ids_for_media(session, media_id)
    )
    if new_sighting:
        pdq = session.scalar(select(Signal.value).where(Signal.media_id == media_id, Signal.signal_type == "pdq"))
        log_capture(session, settings, obs, media_id, media.sha256, media.md5, pdq, held)
