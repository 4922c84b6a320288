"""The ingest pipeline: observations → read → digest → hash → record → match, one transaction per item.

Each item commits on its own, keyed by SHA-256 and its place in the room, so an ingest killed at any point
and run again reaches the same state as one clean run, and running it twice adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reclaim.errors import ReclaimError
from reclaim.evidence.capture import capture_known, capture_new
from reclaim.faces import record_face_matches, scan_faces
from reclaim.matcher import BankMatcher
from reclaim.matcher_cache import index_dir
from reclaim.model import HashedMedia
from reclaim.settings import Settings
from reclaim.signals.hashing import hash_media, sha256_of
from reclaim.signals.pdq import PDQ_MIN_QUALITY
from reclaim.sources.base import Observation, RoomRef, SkippedItem, Source
from reclaim.store import records
from reclaim.store.db import Store
from reclaim.store.tables import Media

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    files: int = 0
    new_media: int = 0
    duplicates: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    matches: int = 0
    low_quality: int = 0
    suppressed: int = 0
    reupload_alerts: int = 0

    @property
    def processed(self) -> int:
        return self.new_media + self.duplicates

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "new_media": self.new_media,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "matches": self.matches,
            "low_quality": self.low_quality,
            "suppressed": self.suppressed,
            "reupload_alerts": self.reupload_alerts,
        }


Progress = Callable[[IngestSummary], None]


def ingest(store: Store, source: Source, settings: Settings, progress: Progress | None = None) -> IngestSummary:
    """Run every observation of `source` through the stages; bad items become ingest errors, the run goes on."""
    summary = IngestSummary()
    with store.transaction() as session:
        matcher = BankMatcher.load(session, cache_dir=index_dir(settings))
    rooms: dict[RoomRef, int] = {}
    for item in source.observations():
        summary.files += 1
        if isinstance(item, SkippedItem):
            _record_error(store, source.name, rooms, item.room, item.locator, item.reason, summary)
        else:
            ingest_observation(store, source.name, item, settings, matcher, rooms, summary)
        if progress is not None:
            progress(summary)
    summary.reupload_alerts += watch_after_ingest(store)
    log.info(
        "ingest.done",
        extra={"source_kind": source.name.split(":", 1)[0], "files": summary.files, "new": summary.new_media},
    )
    return summary


def watch_after_ingest(store: Store) -> int:
    """A removed item seen again raises its re-upload alert as soon as the ingest that saw it ends."""
    from reclaim.takedown.requests import watch_reuploads  # takedown is optional to the pipeline's core path

    with store.transaction() as session:
        return len(watch_reuploads(session))


def _room_id(session: Session, rooms: dict[RoomRef, int], ref: RoomRef) -> int:
    if ref not in rooms:
        rooms[ref] = records.ensure_room(session, ref)
    return rooms[ref]


def ingest_observation(
    store: Store,
    source_name: str,
    obs: Observation,
    settings: Settings,
    matcher: BankMatcher,
    rooms: dict[RoomRef, int],
    summary: IngestSummary,
) -> int | None:
    """One item through read → digest → hash → record → match; returns its media id, or None if it became an error."""
    try:
        data = obs.read()
    except (ReclaimError, OSError) as exc:
        _record_error(store, source_name, rooms, obs.room, obs.locator, _reason(exc), summary)
        return None
    sha256 = sha256_of(data)
    with store.transaction() as session:
        known = session.scalar(select(Media.id).where(Media.sha256 == sha256))
        if known is not None:
            new_sighting = records.ensure_sighting(session, known, _room_id(session, rooms, obs.room), obs)
            records.clear_error(session, source_name, obs.locator)
            capture_known(session, settings, obs, known, data, new_sighting)
            summary.duplicates += 1
            return known
    try:
        hashed = hash_media(data, settings.limits, obs.media_type, settings.signals)
        hashed = matcher.enrich(hashed, data, settings.limits)  # keypoints, only when a candidate needs verifying
    except ReclaimError as exc:
        _record_error(store, source_name, rooms, obs.room, obs.locator, _reason(exc), summary)
        return None
    face_hits = scan_faces(store, settings, matcher, data, hashed.media_type)  # only for consented, enrolled cases
    try:
        with store.transaction() as session:
            media_id = _record_and_match(session, source_name, obs, hashed, matcher, rooms, summary)
            summary.matches += record_face_matches(session, matcher, media_id, hashed, face_hits)
            # Hash-only unless an evidence hold covers the room or a matched case: then kept encrypted.
            capture_new(session, settings, obs, media_id, hashed, data)
            return media_id
    except IntegrityError:
        # Another ingest stored the same media between our check and our insert: it is a duplicate now.
        rooms.clear()
        with store.transaction() as session:
            existing = session.scalar(select(Media.id).where(Media.sha256 == hashed.sha256))
            if existing is None:
                raise
            new_sighting = records.ensure_sighting(session, existing, _room_id(session, rooms, obs.room), obs)
            capture_known(session, settings, obs, existing, data, new_sighting)
            summary.duplicates += 1
            return existing


def _record_and_match(
    session: Session,
    source_name: str,
    obs: Observation,
    hashed: HashedMedia,
    matcher: BankMatcher,
    rooms: dict[RoomRef, int],
    summary: IngestSummary,
) -> int:
    media_id = records.insert_media(session, hashed)
    records.ensure_sighting(session, media_id, _room_id(session, rooms, obs.room), obs)
    records.clear_error(session, source_name, obs.locator)
    summary.new_media += 1
    pdq = hashed.signals.get("pdq")
    if pdq is not None and pdq.quality is not None and pdq.quality < PDQ_MIN_QUALITY:
        summary.low_quality += 1
    decision = matcher.decide(session, hashed)
    summary.matches += records.insert_matches(session, media_id, decision.matches)
    summary.suppressed += len(decision.suppressed)
    return media_id


def _record_error(
    store: Store,
    source_name: str,
    rooms: dict[RoomRef, int],
    room: RoomRef,
    locator: str,
    reason: str,
    summary: IngestSummary,
) -> None:
    with store.transaction() as session:
        records.record_error(session, source_name, locator, reason, _room_id(session, rooms, room))
    summary.errors.append({"path": locator, "reason": reason})
    log.info("ingest.item_error", extra={"error_kind": reason.split(" (", 1)[0][:80]})


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ReclaimError):
        return str(exc)
    if isinstance(exc, PermissionError):
        return "the file cannot be read (permission denied)"
    if isinstance(exc, OSError):
        return f"the file cannot be read ({exc.strerror or exc.__class__.__name__})"
    return str(exc)
