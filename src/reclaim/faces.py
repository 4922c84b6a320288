"""Consented face matching: enrol a case's face, and scan ingested media for enrolled faces only.

There is no open search. Faces are enrolled only into a case whose recorded consent covers "face" and that has
not been withdrawn; the index a scan compares against holds only those embeddings, re-read from the database
whenever they change (a withdrawal elsewhere takes effect on the next item, not the next run); a face that is
not within the model's threshold of an enrolled face yields nothing at all, not even a "nearest" identity. Faces
found in ingested media are compared and dropped: only match rows (case, box, distance) are stored.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.cases import case_bank, get_case, require_face_consent
from reclaim.errors import FaceNotUsable, ReclaimError, UnsupportedMedia
from reclaim.media.video import decode_video
from reclaim.model import HashedMedia, MediaType
from reclaim.settings import FaceOptions, Settings
from reclaim.signals.face import (
    MIN_ENROLL_SIDE,
    Face,
    FaceModel,
    decode_for_faces,
    load_face_model,
    working_image,
)
from reclaim.store.face_tables import FaceEmbedding
from reclaim.store.tables import Bank, BankEntry, Case, Match

if TYPE_CHECKING:
    from reclaim.matcher import BankMatcher
    from reclaim.store.db import Store

log = logging.getLogger(__name__)

# "scene" mode looks at four frames a second and scans one when its 32x32 grey thumbnail differs from the last
# scanned one by more than this mean absolute difference (0-255), or when `max_gap` seconds have passed.
SCENE_CANDIDATES_PER_S = 4.0
SCENE_CHANGE = 12.0
SCENE_MAX_GAP_S = 10.0


# ---------------------------------------------------------------- enrolment


@dataclass
class EnrollResult:
    path: str
    entry_id: int | None = None
    quality: int | None = None
    box: list[int] | None = None
    duplicate_of: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "entry_id": self.entry_id,
            "quality": self.quality,
            "box": self.box,
            "duplicate_of": self.duplicate_of,
            "error": self.error,
        }


def enroll_faces(
    session: Session, case_key: str, paths: Sequence[Path], settings: Settings, model: FaceModel | None = None
) -> list[EnrollResult]:
    """Enrol one face per photo into a consenting case: only the embedding and its quality are kept.

    Consent is checked before any file is read. Each photo must show exactly one face, large enough to compare;
    otherwise that photo gets an error naming it and nothing of it is stored.
    """
    case = get_case(session, case_key)
    require_face_consent(case)
    model = model or load_face_model(settings.faces)
    bank = case_bank(session, case)
    results: list[EnrollResult] = []
    for path in paths:
        result = EnrollResult(path=str(path))
        results.append(result)
        try:
            data = path.read_bytes()
        except OSError as exc:
            result.error = f"cannot read {path.name} ({exc.strerror or exc.__class__.__name__})"
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        existing = session.scalar(
            select(FaceEmbedding.bank_entry_id).where(
                FaceEmbedding.case_id == case.id,
                FaceEmbedding.model == model.name,
                FaceEmbedding.photo_sha256 == sha256,
            )
        )
        if existing is not None:
            result.duplicate_of = result.entry_id = existing
            continue
        try:
            face = _single_face(path.name, data, settings, model)
        except ReclaimError as exc:
            result.error = str(exc)
            continue
        finally:
            del data
        result.quality, result.box = face.quality, face.box.to_list()
        assert face.embedding is not None  # _single_face guarantees it
        entry = BankEntry(bank_id=bank.id, note=path.name, media_type="image")
        session.add(entry)
        session.flush()
        session.add(
            FaceEmbedding(
                case_id=case.id,
                bank_entry_id=entry.id,
                model=model.name,
                dim=int(face.embedding.shape[0]),
                vector=face.embedding.astype("<f4").tobytes(),
                quality=face.quality,
                photo_sha256=sha256,
            )
        )
        session.flush()
        result.entry_id = entry.id
    return results


def _single_face(name: str, data: bytes, settings: Settings, model: FaceModel) -> Face:
    try:
        image = decode_for_faces(data, settings.limits, settings.faces.max_pixels)
    except UnsupportedMedia as exc:
        raise UnsupportedMedia(f"{name}: {exc}; enrol a photo (JPEG, PNG, WebP)") from exc
    faces = model.faces(image, thorough=True)
    if not faces:
        raise FaceNotUsable(
            f"no face found in {name}; enrol a photo where her face is clearly visible and turned to the camera"
        )
    if len(faces) > 1:
        raise FaceNotUsable(
            f"{len(faces)} faces found in {name}; enrol photos that show her face alone (crop the others out)"
        )
    face = faces[0]
    if face.side < MIN_ENROLL_SIDE or face.embedding is None:
        raise FaceNotUsable(
            f"the face in {name} is too small to enrol ({face.side} px across, at least {MIN_ENROLL_SIDE} px "
            "needed); use a larger or closer photo"
        )
    return face


# ---------------------------------------------------------------- the enrolled index


@dataclass(frozen=True, slots=True)
class FaceHit:
    """An ingested face within the threshold of an enrolled face of a consenting case."""

    case_id: int
    bank_id: int
    entry_id: int
    distance: float
    box: tuple[int, int, int, int]
    quality: int
    time_s: float | None = None  # video: when in the video


@dataclass
class EnrolledFaces:
    """Exact search over the enrolled faces of active cases that consented to face search, for one model.

    Enrolled faces are few (a handful per case), so a matrix and one vectorised distance per scanned face is
    both exact and fast; there is no approximate index to go stale.
    """

    model_name: str
    vectors: np.ndarray[Any, np.dtype[np.float32]]
    entries: list[tuple[int, int, int]] = field(default_factory=list)  # (case id, bank id, entry id) per row
    fingerprint: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, session: Session, model_name: str, dim: int) -> EnrolledFaces:
        rows = session.execute(
            select(FaceEmbedding.case_id, BankEntry.bank_id, FaceEmbedding.bank_entry_id, FaceEmbedding.vector)
            .join(Case, Case.id == FaceEmbedding.case_id)
            .join(BankEntry, BankEntry.id == FaceEmbedding.bank_entry_id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(
                FaceEmbedding.model == model_name,
                FaceEmbedding.dim == dim,
                Case.withdrawn_at.is_(None),
                Bank.enabled.is_(True),
                BankEntry.disabled_at.is_(None),
            )
            .order_by(FaceEmbedding.id)
        ).all()
        consenting = _face_consenting_cases(session)
        kept = [r for r in rows if r[0] in consenting]
        vectors = (
            np.frombuffer(b"".join(r[3] for r in kept), dtype="<f4").reshape(len(kept), dim).astype(np.float32)
            if kept
            else np.zeros((0, dim), dtype=np.float32)
        )
        return cls(model_name, vectors, [(r[0], r[1], r[2]) for r in kept], face_fingerprint(session))

    def hits(self, model: FaceModel, face: Face, time_s: float | None = None) -> list[FaceHit]:
        """The enrolled faces within the model's threshold of `face`, the closest per case; nothing otherwise."""
        if face.embedding is None or not self.entries:
            return []
        d = model.distances(face.embedding, self.vectors)
        best: dict[int, FaceHit] = {}
        for row in np.flatnonzero(d <= model.threshold):
            case_id, bank_id, entry_id = self.entries[int(row)]
            dist = float(d[row])
            if case_id not in best or dist < best[case_id].distance:
                b = face.box
                best[case_id] = FaceHit(case_id, bank_id, entry_id, dist, (b.x, b.y, b.w, b.h), face.quality, time_s)
        return list(best.values())


def _face_consenting_cases(session: Session) -> set[int]:
    """Active cases whose consent covers face search (scope is JSON, so filtered here for both back-ends)."""
    return {
        case_id
        for case_id, scope in session.execute(select(Case.id, Case.consent_scope).where(Case.withdrawn_at.is_(None)))
        if "face" in (scope or [])
    }


def face_fingerprint(session: Session) -> tuple[int, ...]:
    """Changes whenever the enrolled set may have: an enrolment, a purge, a withdrawal, a case bank disabled."""
    row = session.execute(
        select(
            select(func.count(FaceEmbedding.id)).scalar_subquery(),
            select(func.max(FaceEmbedding.id)).scalar_subquery(),
            select(func.count(Case.id)).where(Case.withdrawn_at.is_not(None)).scalar_subquery(),
            select(func.count(Bank.id)).where(Bank.case_id.is_not(None), Bank.enabled.is_(False)).scalar_subquery(),
        )
    ).one()
    return tuple(int(v or 0) for v in row)


# ---------------------------------------------------------------- scanning


class FaceScanner:
    """Scans ingested images and video keyframes for enrolled faces; one per ingest run."""

    def __init__(self, model: FaceModel, options: FaceOptions, index: EnrolledFaces) -> None:
        self.model = model
        self.options = options
        self.index = index

    @classmethod
    def load(cls, session: Session, settings: Settings, model: FaceModel | None = None) -> FaceScanner | None:
        """A scanner when at least one active, face-consenting case has enrolled faces; else None (no cost)."""
        if not _has_enrolled_faces(session):
            return None
        model = model or load_face_model(settings.faces)
        index = EnrolledFaces.load(session, model.name, model.dim)
        if not index:
            log.warning("faces.no_embeddings_for_model", extra={"model": model.name})
            return None
        return cls(model, settings.faces, index)

    def scan(self, data: bytes, media_type: MediaType, settings: Settings) -> list[FaceHit]:
        """Faces in the media that match an enrolled face (pure compute; bad media gives no hits)."""
        try:
            if media_type == "image":
                image = decode_for_faces(data, settings.limits, self.options.max_pixels)
                return self._image_hits(image)
            return self._video_hits(data, settings)
        except (ReclaimError, RuntimeError, ValueError, OSError) as exc:
            # The item was hashed and is kept; only its face scan is lost. No media or personal data is logged.
            log.warning("faces.scan_skipped", extra={"error_kind": type(exc).__name__})
            return []

    def _image_hits(self, image: Any, time_s: float | None = None) -> list[FaceHit]:
        out: list[FaceHit] = []
        for face in self.model.faces(image):
            out.extend(self.index.hits(self.model, face, time_s))
        return out

    def _video_hits(self, data: bytes, settings: Settings) -> list[FaceHit]:
        video = decode_video(data, settings.limits)
        scene = self.options.video_frames == "scene"
        step = 1.0 / SCENE_CANDIDATES_PER_S if scene else self.options.seconds_per_frame
        best: dict[int, FaceHit] = {}
        last_thumb: np.ndarray[Any, Any] | None = None
        last_time = -1e9
        for frame in video.frames(step):
            picture = Image.fromarray(frame.rgb)
            if scene:
                thumb = np.asarray(picture.convert("L").resize((32, 32)), dtype=np.float32)
                changed = last_thumb is None or float(np.abs(thumb - last_thumb).mean()) > SCENE_CHANGE
                if not changed and frame.timestamp - last_time < SCENE_MAX_GAP_S:
                    continue
                last_thumb, last_time = thumb, frame.timestamp
            for hit in self._image_hits(working_image(picture, self.options.max_pixels), round(frame.timestamp, 3)):
                if hit.case_id not in best or hit.distance < best[hit.case_id].distance:
                    best[hit.case_id] = hit
        return list(best.values())

    def record(self, session: Session, media_id: int, hits: Iterable[FaceHit], suppressed: bool = False) -> int:
        """Store face matches in the item's transaction, after re-reading the enrolled set if it changed.

        A hit whose enrolled face was purged (the case withdrew) since the scan is dropped here, so a withdrawal
        stops matching at once even in a long ingest that started before it.
        """
        hits = list(hits)
        if not hits:
            return 0
        self.refresh(session)
        live = {entry for _, _, entry in self.index.entries}
        added = 0
        for hit in hits:
            if hit.entry_id not in live or suppressed:
                continue
            exists = session.scalar(
                select(Match.id).where(
                    Match.media_id == media_id, Match.bank_entry_id == hit.entry_id, Match.method == "face"
                )
            )
            if exists is not None:
                continue
            details: dict[str, Any] = {
                "case": hit.case_id,
                "box": list(hit.box),
                "quality": hit.quality,
                "model": self.model.name,
            }
            if hit.time_s is not None:
                details["time_s"] = hit.time_s
            session.add(
                Match(
                    media_id=media_id,
                    bank_entry_id=hit.entry_id,
                    method="face",
                    distance=round(hit.distance, 4),
                    details=details,
                )
            )
            added += 1
        return added

    def refresh(self, session: Session) -> None:
        """Re-read the enrolled set if it changed (cheap: one aggregate query)."""
        if face_fingerprint(session) != self.index.fingerprint:
            self.index = EnrolledFaces.load(session, self.model.name, self.model.dim)


def _has_enrolled_faces(session: Session) -> bool:
    consenting = _face_consenting_cases(session)
    if not consenting:
        return False
    return (
        session.scalar(select(func.count(FaceEmbedding.id)).where(FaceEmbedding.case_id.in_(sorted(consenting)))) or 0
    ) > 0


# ---------------------------------------------------------------- the pipeline's face stage


@dataclass
class FaceStage:
    """The pipeline's face stage for one matcher: its scanner (None while no case needs one) and what it last saw."""

    scanner: FaceScanner | None
    fingerprint: tuple[int, ...]
    model: FaceModel | None = None  # kept across reloads: loading a model takes over a second


def scan_faces(
    store: Store, settings: Settings, matcher: BankMatcher, data: bytes, media_type: MediaType
) -> list[FaceHit]:
    """The pipeline's face stage, outside any transaction: enrolled faces found in this item (usually none).

    Each item first checks (one query of four counts) whether the enrolled set changed, so a long-running monitor picks
    up a new enrolment and drops a withdrawn case on its next item. Without an active, face-consenting case with
    enrolled faces no model is loaded and nothing is scanned.
    """
    with store.transaction() as session:
        fingerprint = face_fingerprint(session)
        stage = matcher.faces
        if stage is None or stage.fingerprint != fingerprint:
            model = stage.model if stage is not None else None
            scanner = FaceScanner.load(session, settings, model)
            matcher.faces = stage = FaceStage(scanner, fingerprint, scanner.model if scanner is not None else model)
    if stage.scanner is None:
        return []
    return stage.scanner.scan(data, media_type, settings)


def record_face_matches(
    session: Session, matcher: BankMatcher, media_id: int, hashed: HashedMedia, hits: list[FaceHit]
) -> int:
    """Store the item's face matches in its transaction; none when it also matched a negative bank."""
    stage = matcher.faces
    if not hits or stage is None or stage.scanner is None:
        return 0
    suppressed = bool(matcher.decide(session, hashed).negative_hits)
    return stage.scanner.record(session, media_id, hits, suppressed)
