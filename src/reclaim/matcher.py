"""Bank matching over the store: indexes filled from enabled banks, exact lookups in the database,
geometric verification of derivatives, and the decision rule.

The indexes themselves (`matching/`) are pure; this service fills them from the bank signals (or from the
copy persisted beside the database, see `matcher_cache.py`), turns index hits into `Candidate`s, verifies
the ones that need it and applies `matching.decide`.

Memory: bank entry -> bank is looked up in the database for the few entries an item hits, so the matcher
holds only the indexes (PDQ ~32 bytes per entry, SSCD ~0.5-2 KB per vector) and the ids of entries that
have keypoints.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reclaim.errors import ReclaimError
from reclaim.matching.decide import PDQ_PROPOSE, SSCD_PROPOSE, BankRule, Candidate, Decision, decide
from reclaim.matching.float_index import FloatIndex
from reclaim.matching.index import SignalIndex
from reclaim.matching.pdq_flat import PdqFlatIndex
from reclaim.matching.pdq_mih import PdqMultiHashIndex
from reclaim.matching.verify import Verification, verify
from reclaim.matching.vpdq_rule import compare_shares, unique_good_frames
from reclaim.media.image import decode_image
from reclaim.media.regions import embedded_pictures
from reclaim.model import HashedMedia, SignalValue
from reclaim.settings import Limits
from reclaim.signals.keypoints import QUERY_KEYPOINTS, QUERY_WORK_SIDE, keypoints_of, mirrored
from reclaim.signals.keypoints import KeypointsSignal as _Keypoints
from reclaim.signals.pdq import PDQ_MIN_QUALITY
from reclaim.signals.registry import SIGNAL_TYPES
from reclaim.signals.sscd import SSCD_DIM, SSCD_MAX_VECTORS
from reclaim.signals.sscd import decode as decode_sscd
from reclaim.signals.vpdq import VPDQ_FRAME_THRESHOLD, parse_vpdq
from reclaim.store.records import insert_matches
from reclaim.store.tables import Bank, BankEntry, BankSignal, Media

if TYPE_CHECKING:
    from reclaim.faces import FaceStage

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS: dict[str, float] = {s.name: s.default_threshold for s in SIGNAL_TYPES}
# Looked up by equality in the database (keypoints are compared by verification, never by equality).
EXACT_SIGNALS = tuple(s.name for s in SIGNAL_TYPES if not s.approximate and s.name != _Keypoints.name)
INDEXED_SIGNALS = ("pdq", "sscd")
STREAM_CHUNK = 5000
# Banks this large get the multi-index-hashing PDQ index (exact; measured ~3x the flat scan's lookups at 10k
# entries, ~10x at 1M and ~60x at 10M). Below it both answer in microseconds and the flat index spares loading
# numba.
MIH_MIN = 10_000
# Cosine distance at which a picture shown in a screenshot proposes an entry for verification (cosine >=
# 0.1, so in practice its nearest entries, MAX_VERIFY at most): the crop keeps the bubble's margin and the
# photo is small, so a repainted photo's cosine falls to 0.14-0.25 (bench/matching_quality.py, "screenshot
# of repaint 30%"), while verification still finds 50-150 inliers; verification decides.
SHOWN_PROPOSE = 0.9
# Query variant holding the keypoints (and their mirror image) of the picture a screenshot shows.
SHOWN_KEYPOINTS = "keypoints.shown"
# SSCD neighbours examined per query vector.
SSCD_K = 32
# Query keypoints are computed on a decode of at least this many pixels (JPEG draft decoding stops there).
QUERY_DRAFT_PIXELS = QUERY_WORK_SIDE * QUERY_WORK_SIDE // 2
# Verification is the slow step (~5-20 ms per candidate): at most this many candidates per item.
MAX_VERIFY = 8


def sscd_ref(entry_id: int, k: int) -> int:
    """Index id of the k-th SSCD vector of an entry (videos have one per keyframe)."""
    return entry_id * SSCD_MAX_VECTORS + k


@dataclass
class _VpdqRefs:
    index: PdqFlatIndex = field(default_factory=PdqFlatIndex)
    frame_entry: list[int] = field(default_factory=list)  # frame ref id -> entry id
    entry_frames: dict[int, int] = field(default_factory=dict)  # entry id -> unique frames


@dataclass
class _Proposal:
    """What the indexes say about one entry for one item: best PDQ distance and best SSCD cosine distance."""

    pdq: float | None = None
    sscd: float | None = None
    # A picture the item shows inside a frame (a screenshot) came near the entry: worth verifying even
    # when the whole item is far from it.
    shown: bool = False
    # The whole item came near (SSCD within the larger of the bank's threshold and SSCD_PROPOSE, or PDQ within
    # PDQ_PROPOSE). When only a shown picture did, the entry is verified against the shown pictures'
    # keypoints alone: the frame around them (a chat's header, text and icons) is shared by every
    # screenshot of one app and must not count towards a match.
    whole: bool = False

    def worth_verifying(self) -> bool:
        return (self.sscd is not None and (self.sscd <= SSCD_PROPOSE or self.shown)) or (
            self.pdq is not None and self.pdq <= PDQ_PROPOSE
        )


class BankMatcher:
    """Matches hashed media against the enabled banks (or a subset of entries, for retro-matching)."""

    def __init__(self, rules: dict[int, BankRule], entry_ids: Collection[int] | None = None) -> None:
        self.rules = rules
        self.only_entries = set(entry_ids) if entry_ids is not None else None
        self.pdq: SignalIndex = PdqFlatIndex()
        self.sscd: dict[str, FloatIndex] = {}  # model fingerprint -> index
        self.keypoint_entries: set[int] = set()
        self.vpdq = _VpdqRefs()
        # Entries whose PDQ/SSCD rows are in the indexes (kept so a persisted copy can be checked and updated).
        self.indexed_entries = np.zeros(0, dtype=np.int64)
        self.max_signal_id = 0
        # How the indexes were obtained: "built", "loaded" or "updated" (from the persisted copy).
        self.index_state = "built"
        # The pipeline's consented face stage (faces.py), set up on first use; never used by retro-matching.
        self.faces: FaceStage | None = None

    @classmethod
    def load(
        cls, session: Session, entry_ids: Collection[int] | None = None, cache_dir: Path | None = None
    ) -> BankMatcher:
        """Indexes over the enabled banks; with `cache_dir`, reuse and update the copy persisted there."""
        banks = session.scalars(select(Bank).where(Bank.enabled.is_(True))).all()
        rules = {b.id: BankRule(b.id, b.name, b.kind, dict(b.thresholds or {})) for b in banks}
        matcher = cls(rules, entry_ids)
        if cache_dir is not None and entry_ids is None:
            from reclaim.matcher_cache import load_or_build

            load_or_build(session, matcher, cache_dir)
        else:
            matcher.build(session)
        matcher._load_small(session)
        return matcher

    # --- filling ---------------------------------------------------------------------------------------

    def _active(self, stmt: Any) -> Any:
        stmt = (
            stmt.join(BankEntry, BankEntry.id == BankSignal.entry_id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.enabled.is_(True), BankEntry.disabled_at.is_(None))
        )
        if self.only_entries is not None and len(self.only_entries) <= 1000:
            stmt = stmt.where(BankEntry.id.in_(sorted(self.only_entries)))
        return stmt

    def indexed_rows(self, session: Session, after_id: int = 0) -> Iterator[tuple[int, int, str, str, int | None]]:
        """(signal id, entry id, type, value, quality) of active PDQ/SSCD rows with id > after_id, by id."""
        stmt = self._active(
            select(BankSignal.id, BankSignal.entry_id, BankSignal.signal_type, BankSignal.value, BankSignal.quality)
        ).where(BankSignal.signal_type.in_(INDEXED_SIGNALS), BankSignal.id > after_id)
        for row in session.execute(stmt.order_by(BankSignal.id).execution_options(yield_per=STREAM_CHUNK)):
            if self.only_entries is None or row[1] in self.only_entries:
                yield row[0], row[1], row[2], row[3], row[4]

    def build(self, session: Session) -> None:
        count = session.scalar(self._active(select(func.count(BankSignal.id))).where(BankSignal.signal_type == "pdq"))
        self.pdq = PdqMultiHashIndex() if (count or 0) >= MIH_MIN else PdqFlatIndex()
        self.sscd = {}
        self.indexed_entries = np.zeros(0, dtype=np.int64)
        self.max_signal_id = 0
        self.add_rows(self.indexed_rows(session))
        self.index_state = "built"

    def outgrew_flat_pdq(self) -> bool:
        """Incremental adds took the PDQ index past MIH_MIN while it is still the flat one."""
        return isinstance(self.pdq, PdqFlatIndex) and len(self.pdq) >= MIH_MIN

    def add_rows(self, rows: Iterable[tuple[int, int, str, str, int | None]]) -> int:
        """Add PDQ/SSCD bank rows to the indexes in chunks; returns how many rows were added."""
        added = 0
        pdq_ids: list[int] = []
        pdq_values: list[str] = []
        sscd: dict[str, tuple[list[int], list[np.ndarray]]] = defaultdict(lambda: ([], []))
        entries: list[int] = []

        def flush() -> None:
            nonlocal pdq_ids, pdq_values
            self.pdq.add(pdq_ids, pdq_values)
            pdq_ids, pdq_values = [], []
            for fp, (ids, vecs) in sscd.items():
                if ids:
                    self.sscd.setdefault(fp, FloatIndex(SSCD_DIM)).add(ids, np.concatenate(vecs))
            sscd.clear()

        for signal_id, entry_id, signal_type, value, quality in rows:
            added += 1
            entries.append(entry_id)
            self.max_signal_id = max(self.max_signal_id, signal_id)
            if signal_type == "pdq":
                if quality is not None and quality < PDQ_MIN_QUALITY:
                    continue
                pdq_ids.append(entry_id)
                pdq_values.append(value)
            else:
                fp, vectors = decode_sscd(value)
                ids, vecs = sscd[fp]
                ids.extend(sscd_ref(entry_id, k) for k in range(len(vectors)))
                vecs.append(vectors)
            if len(pdq_ids) + sum(len(i) for i, _ in sscd.values()) >= STREAM_CHUNK:
                flush()
        flush()
        if entries:
            self.indexed_entries = np.union1d(self.indexed_entries, np.asarray(entries, dtype=np.int64))
        return added

    def remove_entries(self, entry_ids: Sequence[int]) -> None:
        """Drop disabled entries from the indexes without a rebuild."""
        if not entry_ids:
            return
        self.pdq.remove(list(entry_ids))
        refs = [sscd_ref(e, k) for e in entry_ids for k in range(SSCD_MAX_VECTORS)]
        for index in self.sscd.values():
            index.remove(refs)
        self.indexed_entries = np.setdiff1d(self.indexed_entries, np.asarray(entry_ids, dtype=np.int64))

    def _load_small(self, session: Session) -> None:
        """vPDQ frames and the ids of entries with keypoints: small, always read fresh from the database."""
        stmt = self._active(select(BankSignal.entry_id, BankSignal.value)).where(BankSignal.signal_type == "vpdq")
        for entry_id, value in session.execute(stmt.execution_options(yield_per=500)):
            if self.only_entries is not None and entry_id not in self.only_entries:
                continue
            frames = unique_good_frames(parse_vpdq(value))
            start = len(self.vpdq.frame_entry)
            self.vpdq.index.add(range(start, start + len(frames)), frames)
            self.vpdq.frame_entry.extend([entry_id] * len(frames))
            self.vpdq.entry_frames[entry_id] = len(frames)
        stmt = self._active(select(BankSignal.entry_id)).where(BankSignal.signal_type == _Keypoints.name)
        self.keypoint_entries = {
            e for e in session.scalars(stmt) if self.only_entries is None or e in self.only_entries
        }

    # --- proposing, verifying, deciding -----------------------------------------------------------------

    def _max_threshold(self, method: str) -> float:
        return max(
            (r.thresholds.get(method, DEFAULT_THRESHOLDS[method]) for r in self.rules.values()),
            default=DEFAULT_THRESHOLDS[method],
        )

    def proposals(self, media: HashedMedia) -> dict[int, _Proposal]:
        """Entries the in-memory indexes place near this item (PDQ incl. dihedral variants, SSCD)."""
        out: dict[int, _Proposal] = defaultdict(_Proposal)
        pdq = media.signals.get("pdq")
        if pdq is not None and len(self.pdq):
            limit = max(self._max_threshold("pdq"), PDQ_PROPOSE)
            for hits in self.pdq.query([pdq.value, *media.query_variants.get("pdq", ())], limit):
                for hit in hits:
                    p = out[hit.ref_id]
                    p.pdq = hit.distance if p.pdq is None else min(p.pdq, hit.distance)
                    p.whole = p.whole or hit.distance <= PDQ_PROPOSE
        sscd = media.signals.get("sscd")
        if sscd is not None:
            fp, vectors = decode_sscd(sscd.value)
            index = self.sscd.get(fp)
            if index is not None and len(index):
                # An image's first vector is the whole picture; the others are pictures it shows (screenshots).
                whole = 1 if media.media_type == "image" else len(vectors)
                limit = max(self._max_threshold("sscd"), SSCD_PROPOSE)
                for shown, part, bound in (
                    (False, vectors[:whole], limit),
                    (True, vectors[whole:], max(limit, SHOWN_PROPOSE)),
                ):
                    if not len(part):
                        continue
                    for hits in index.search(part, SSCD_K, bound):
                        for hit in hits:
                            p = out[hit.ref_id // SSCD_MAX_VECTORS]
                            p.sscd = hit.distance if p.sscd is None else min(p.sscd, hit.distance)
                            p.shown = p.shown or shown
                            p.whole = p.whole or not shown
        return dict(out)

    def _to_verify(self, proposals: dict[int, _Proposal], weak_pdq: bool = False) -> list[int]:
        """Entries with keypoints whose proposal is not already a PDQ match, most promising first.

        `weak_pdq`: the item's PDQ quality is too low to match on PDQ alone, so PDQ matches are verified too.
        """
        pdq_limit = self._max_threshold("pdq")
        wanted = [
            e
            for e, p in proposals.items()
            if e in self.keypoint_entries and (p.pdq is None or p.pdq > pdq_limit or weak_pdq) and p.worth_verifying()
        ]
        wanted.sort(key=lambda e: (proposals[e].sscd if proposals[e].sscd is not None else 1.0, proposals[e].pdq or 0))
        return wanted[:MAX_VERIFY]

    def enrich(self, media: HashedMedia, data: bytes, limits: Limits) -> HashedMedia:
        """Add the query keypoints (never stored) when some candidate will need geometric verification.

        Called while the bytes are still at hand; costs nothing for the vast majority of items, which
        have no candidate at all. A picture shown inside a frame (a screenshot of a chat) gets keypoints of
        its own, from a working copy at full size rather than the screenshot's few pixels.
        """
        if media.media_type != "image" or not self.keypoint_entries:
            return media
        if not self._to_verify(self.proposals(media), _weak_pdq(media)):
            return media
        try:
            decoded = decode_image(data, limits, draft_pixels=QUERY_DRAFT_PIXELS)
        except ReclaimError:
            return media
        image = decoded.image
        sx, sy = decoded.width / image.width, decoded.height / image.height
        variants = dict(media.query_variants)
        for key, picture, size in (
            (_Keypoints.name, image, (decoded.width, decoded.height)),
            *(
                (SHOWN_KEYPOINTS, image.crop((x, y, x + w, y + h)), (round(w * sx), round(h * sy)))
                for x, y, w, h in embedded_pictures(image)  # every picture that got an SSCD vector
            ),
        ):
            value = keypoints_of(picture, QUERY_KEYPOINTS, size, QUERY_WORK_SIDE)
            if value is not None:  # (picture, its mirror image) pairs: see _verified
                variants[key] = (*variants.get(key, ()), value, mirrored(value))
        return replace(media, query_variants=variants)

    def candidates(self, session: Session, media: HashedMedia) -> list[Candidate]:
        found: list[tuple[int, str, float, float | None, dict[str, Any] | None]] = []
        for entry_id, name in self._exact(session, media):
            found.append((entry_id, name, 0.0, None, None))
        proposals = self.proposals(media)
        for entry_id, p in proposals.items():
            if p.pdq is not None:
                found.append((entry_id, "pdq", p.pdq, None, None))
            if p.sscd is not None:
                found.append((entry_id, "sscd", p.sscd, 1.0 - p.sscd, None))
        whole_kps = media.query_variants.get(_Keypoints.name, ())
        shown_kps = media.query_variants.get(SHOWN_KEYPOINTS, ())
        if whole_kps or shown_kps:
            found.extend(self._verified(session, proposals, whole_kps, shown_kps, _weak_pdq(media)))
            # Where verification was possible, SSCD alone must be near-certain (decide.SSCD_VERIFIABLE_MAX).
            found = [
                (e, m, d, s, {"verifiable": True} if m == "sscd" and e in self.keypoint_entries else x)
                for e, m, d, s, x in found
            ]
        vpdq = media.signals.get("vpdq")
        if vpdq is not None and len(self.vpdq.index):
            found.extend(self._vpdq(vpdq.value))
        if not found:
            return []
        banks = self._banks_of(session, {f[0] for f in found})
        return [
            Candidate(banks[e], e, method, distance, score, details)
            for e, method, distance, score, details in found
            if e in banks
        ]

    def decide(self, session: Session, media: HashedMedia) -> Decision:
        pdq = media.signals.get("pdq")
        return decide(self.candidates(session, media), self.rules, DEFAULT_THRESHOLDS, pdq.quality if pdq else None)

    def _banks_of(self, session: Session, entry_ids: set[int]) -> dict[int, int]:
        rows = session.execute(
            select(BankEntry.id, BankEntry.bank_id).where(
                BankEntry.id.in_(sorted(entry_ids)), BankEntry.disabled_at.is_(None)
            )
        )
        return {e: b for e, b in rows if b in self.rules}

    def _verified(
        self,
        session: Session,
        proposals: dict[int, _Proposal],
        whole_kps: Sequence[str],
        shown_kps: Sequence[str],
        weak_pdq: bool,
    ) -> Iterator[tuple[int, str, float, float | None, dict[str, Any] | None]]:
        wanted = self._to_verify(proposals, weak_pdq)
        if not wanted:
            return
        refs = session.execute(
            select(BankSignal.entry_id, BankSignal.value).where(
                BankSignal.entry_id.in_(wanted), BankSignal.signal_type == _Keypoints.name
            )
        )
        for entry_id, ref in refs:
            p = proposals[entry_id]
            shown_only = p.shown and not p.whole and shown_kps  # (no box found here: fall back to the whole)
            query_kps = [*shown_kps] if shown_only else [*whole_kps, *shown_kps]
            best: tuple[Verification, bool] | None = None
            for k, query in enumerate(query_kps):  # (picture, its mirror image) pairs: see enrich
                result = verify(ref, query)
                if result is not None and (best is None or result.inliers > best[0].inliers):
                    best = (result, k % 2 == 1)
            if best is None:
                continue
            via = "sscd" if p.sscd is not None and (p.sscd <= SSCD_PROPOSE or p.shown) else "pdq"
            details = {
                "region": list(best[0].region),
                "inliers": best[0].inliers,
                "reference_keypoints": best[0].reference_keypoints,
                "proposed_by": via,
                "mirrored": best[1],
            }
            distance = p.sscd if via == "sscd" and p.sscd is not None else (p.pdq or 0.0) / 256.0
            score = 1.0 - p.sscd if p.sscd is not None else None
            yield entry_id, "verified", distance, score, details

    def _exact(self, session: Session, media: HashedMedia) -> Iterable[tuple[int, str]]:
        for name in EXACT_SIGNALS:
            value = media.signals.get(name)
            if value is None:
                continue
            stmt = (
                select(BankSignal.entry_id)
                .join(BankEntry, BankEntry.id == BankSignal.entry_id)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(BankSignal.signal_type == name, BankSignal.value_key == value.value[:64])
                .where(Bank.enabled.is_(True), BankEntry.disabled_at.is_(None))
            )
            for entry_id in session.scalars(stmt):
                if self.only_entries is None or entry_id in self.only_entries:
                    yield entry_id, name

    def _vpdq(self, value: str) -> Iterable[tuple[int, str, float, float | None, dict[str, Any] | None]]:
        query = unique_good_frames(parse_vpdq(value))
        if not query:
            return
        matched_q: dict[int, set[int]] = defaultdict(set)
        matched_r: dict[int, set[int]] = defaultdict(set)
        dists: dict[int, list[float]] = defaultdict(list)
        for qi, hits in enumerate(self.vpdq.index.query(query, VPDQ_FRAME_THRESHOLD)):
            nearest: dict[int, float] = {}
            for hit in hits:
                entry = self.vpdq.frame_entry[hit.ref_id]
                matched_r[entry].add(hit.ref_id)
                nearest[entry] = min(nearest.get(entry, float("inf")), hit.distance)
            for entry, d in nearest.items():
                matched_q[entry].add(qi)
                dists[entry].append(d)
        for entry, q_frames in matched_q.items():
            cmp = compare_shares(len(query), self.vpdq.entry_frames[entry], q_frames, matched_r[entry], dists[entry])
            kind = cmp.kind()
            if kind is not None:
                details = {
                    "kind": kind,
                    "query_percent": round(cmp.query_percent, 1),
                    "reference_percent": round(cmp.reference_percent, 1),
                }
                yield entry, "vpdq", cmp.median_distance, cmp.score, details


def _weak_pdq(media: HashedMedia) -> bool:
    pdq = media.signals.get("pdq")
    return pdq is not None and pdq.quality is not None and pdq.quality < PDQ_MIN_QUALITY


def stored_media(session: Session, chunk: int = STREAM_CHUNK) -> Iterator[HashedMedia]:
    """Every stored media item rebuilt from its signals (no bytes), streamed in id order."""
    last_id = 0
    while True:
        rows = session.execute(
            select(Media).where(Media.id > last_id).order_by(Media.id).limit(chunk).options(selectinload(Media.signals))
        ).scalars()
        batch = list(rows)
        if not batch:
            return
        for m in batch:
            yield HashedMedia(
                sha256=m.sha256,
                md5=m.md5,
                media_type="video" if m.media_type == "video" else "image",
                size_bytes=m.size_bytes,
                width=m.width,
                height=m.height,
                duration_s=m.duration_s,
                signals={s.signal_type: SignalValue(s.signal_type, s.value, s.quality) for s in m.signals},
            )
        last_id = batch[-1].id


def match_earlier_media(session: Session, entry_ids: Collection[int]) -> dict[int, int]:
    """Match media ingested before these bank entries existed; returns new matches per entry.

    Only the new entries are indexed, and the stored media streams through that small index; the full
    decision (thresholds, negative banks) is taken only for media that hit. Stored media keeps no dihedral
    variants and no keypoints (no pixels are kept), so a flipped or rotated copy seen before enrolment is
    found only by SSCD, and derivatives only by the SSCD-alone rule (no geometric verification).
    """
    if not entry_ids:
        return {}
    new = BankMatcher.load(session, entry_ids)
    full: BankMatcher | None = None
    added: dict[int, int] = dict.fromkeys(entry_ids, 0)
    for media in stored_media(session):
        if not new.candidates(session, media):
            continue
        full = full or BankMatcher.load(session)
        decision = full.decide(session, media)
        wanted = [c for c in decision.matches if c.entry_id in added]
        media_id = session.scalar(select(Media.id).where(Media.sha256 == media.sha256))
        if wanted and media_id is not None:
            insert_matches(session, media_id, wanted)
            for c in wanted:
                added[c.entry_id] += 1
    return added
