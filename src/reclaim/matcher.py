"""Bank matching over the store: indexes built by streaming bank signals, exact lookups in the database.

The indexes themselves (`matching/`) are pure; this service fills them from enabled banks and turns index
hits into `Candidate`s for the decision rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reclaim.matching.decide import BankRule, Candidate, Decision, decide
from reclaim.matching.pdq_flat import PdqFlatIndex
from reclaim.matching.vpdq_rule import compare_shares, unique_good_frames
from reclaim.model import HashedMedia, SignalValue
from reclaim.signals.pdq import PDQ_MIN_QUALITY
from reclaim.signals.registry import SIGNAL_TYPES
from reclaim.signals.vpdq import VPDQ_FRAME_THRESHOLD, parse_vpdq
from reclaim.store.records import insert_matches
from reclaim.store.tables import Bank, BankEntry, BankSignal, Media

DEFAULT_THRESHOLDS: dict[str, float] = {s.name: s.default_threshold for s in SIGNAL_TYPES}
EXACT_SIGNALS = tuple(s.name for s in SIGNAL_TYPES if not s.approximate)
STREAM_CHUNK = 5000


@dataclass
class _VpdqRefs:
    index: PdqFlatIndex = field(default_factory=PdqFlatIndex)
    frame_entry: list[int] = field(default_factory=list)  # frame ref id -> entry id
    entry_frames: dict[int, int] = field(default_factory=dict)  # entry id -> unique frames


class BankMatcher:
    """Matches hashed media against the enabled banks (or a subset of entries, for retro-matching)."""

    def __init__(self, rules: dict[int, BankRule], entry_ids: Collection[int] | None = None) -> None:
        self.rules = rules
        self.only_entries = set(entry_ids) if entry_ids is not None else None
        self.pdq = PdqFlatIndex()
        self.entry_bank: dict[int, int] = {}
        self.vpdq = _VpdqRefs()

    @classmethod
    def load(cls, session: Session, entry_ids: Collection[int] | None = None) -> BankMatcher:
        banks = session.scalars(select(Bank).where(Bank.enabled.is_(True))).all()
        rules = {b.id: BankRule(b.id, b.name, b.kind, dict(b.thresholds or {})) for b in banks}
        matcher = cls(rules, entry_ids)
        matcher._fill(session)
        return matcher

    def _fill(self, session: Session) -> None:
        stmt = (
            select(
                BankSignal.entry_id,
                BankEntry.bank_id,
                BankSignal.signal_type,
                BankSignal.value,
                BankSignal.quality,
            )
            .join(BankEntry, BankEntry.id == BankSignal.entry_id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.enabled.is_(True), BankEntry.disabled_at.is_(None))
            .where(BankSignal.signal_type.in_(("pdq", "vpdq")))
            .execution_options(yield_per=STREAM_CHUNK)
        )
        pdq_ids: list[int] = []
        pdq_values: list[str] = []
        for entry_id, bank_id, signal_type, value, quality in session.execute(stmt):
            if self.only_entries is not None and entry_id not in self.only_entries:
                continue
            self.entry_bank[entry_id] = bank_id
            if signal_type == "pdq":
                if quality is not None and quality < PDQ_MIN_QUALITY:
                    continue
                pdq_ids.append(entry_id)
                pdq_values.append(value)
                if len(pdq_ids) >= STREAM_CHUNK:
                    self.pdq.add(pdq_ids, pdq_values)
                    pdq_ids, pdq_values = [], []
            else:
                frames = unique_good_frames(parse_vpdq(value))
                start = len(self.vpdq.frame_entry)
                self.vpdq.index.add(range(start, start + len(frames)), frames)
                self.vpdq.frame_entry.extend([entry_id] * len(frames))
                self.vpdq.entry_frames[entry_id] = len(frames)
        self.pdq.add(pdq_ids, pdq_values)

    def candidates(self, session: Session, media: HashedMedia) -> list[Candidate]:
        out: list[Candidate] = []
        out.extend(self._exact(session, media))
        pdq = media.signals.get("pdq")
        if pdq is not None and len(self.pdq):
            out.extend(self._pdq([pdq.value, *media.query_variants.get("pdq", ())]))
        vpdq = media.signals.get("vpdq")
        if vpdq is not None and len(self.vpdq.index):
            out.extend(self._vpdq(vpdq.value))
        return out

    def decide(self, session: Session, media: HashedMedia) -> Decision:
        pdq = media.signals.get("pdq")
        return decide(self.candidates(session, media), self.rules, DEFAULT_THRESHOLDS, pdq.quality if pdq else None)

    def _max_threshold(self, method: str) -> float:
        return max(
            (r.thresholds.get(method, DEFAULT_THRESHOLDS[method]) for r in self.rules.values()),
            default=DEFAULT_THRESHOLDS[method],
        )

    def _exact(self, session: Session, media: HashedMedia) -> Iterable[Candidate]:
        for name in EXACT_SIGNALS:
            value = media.signals.get(name)
            if value is None:
                continue
            stmt = (
                select(BankSignal.entry_id, BankEntry.bank_id)
                .join(BankEntry, BankEntry.id == BankSignal.entry_id)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(BankSignal.signal_type == name, BankSignal.value_key == value.value[:64])
                .where(Bank.enabled.is_(True), BankEntry.disabled_at.is_(None))
            )
            for entry_id, bank_id in session.execute(stmt):
                if self.only_entries is None or entry_id in self.only_entries:
                    yield Candidate(bank_id, entry_id, name, 0.0)

    def _pdq(self, queries: list[str]) -> Iterable[Candidate]:
        best: dict[int, float] = {}
        for hits in self.pdq.query(queries, self._max_threshold("pdq")):
            for hit in hits:
                if hit.distance < best.get(hit.ref_id, float("inf")):
                    best[hit.ref_id] = hit.distance
        for entry_id, distance in best.items():
            yield Candidate(self.entry_bank[entry_id], entry_id, "pdq", distance)

    def _vpdq(self, value: str) -> Iterable[Candidate]:
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
            if cmp.is_match():
                yield Candidate(self.entry_bank[entry], entry, "vpdq", cmp.median_distance, cmp.score)


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
    variants, so a flipped or rotated copy seen before enrolment is not found here (a known gap).
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
