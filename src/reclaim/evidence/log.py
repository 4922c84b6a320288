"""The append-only evidence log: entries go in inside the caller's transaction and are never changed.

Every entry takes the next leaf index from the single `evidence_head` row with `UPDATE ... RETURNING`. That row
lock (PostgreSQL) or write lock (SQLite) is held until the caller commits, so concurrent writers get distinct,
gap-free indexes in commit order, and a rolled-back transaction takes its entries and its indexes with it.
Append late in a transaction: the lock serialises appenders until commit.

Bodies should name their subjects with these keys so that packages can find them: `media_id` (or `match_id`,
resolved to its media), `case_id` (or `case_ref`), and `room` = {"platform", "platform_id", "name"}.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from reclaim.errors import EvidenceError
from reclaim.evidence.encoding import PreparedBody, encode_entry, leaf_hash, utc_text
from reclaim.store.evidence_tables import EvidenceEntry, EvidenceHead
from reclaim.store.tables import Case, Match, utcnow

KINDS = ("capture", "decision", "reveal", "export", "consent", "withdrawal", "hold")
ENTRY_TABLE: Table = EvidenceEntry.__table__  # type: ignore[assignment]
# Built once: appends are hot (one per capture), and building statements costs more than running them.
_RESERVE = text("UPDATE evidence_head SET size = size + :n WHERE id = 1 RETURNING size")
_INSERT = insert(ENTRY_TABLE)

# How a room named on no particular platform (a hold made before the room was seen) appears in `room_key`.
ANY_PLATFORM = "*"
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored entry: its index, kind, canonical text and leaf hash (hex)."""

    index: int
    kind: str
    entry: str
    leaf_hash: str


def append_entry(session: Session, kind: str, body: Mapping[str, Any]) -> int:
    """Append one entry inside the caller's transaction; returns its 0-based leaf index."""
    return append_entries(session, [(kind, body)])[0]


def append_entries(session: Session, items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[int]:
    """Append several entries with one index reservation and one multi-row insert (the fast path)."""
    if not items:
        return []
    prepared: list[tuple[str, PreparedBody]] = []
    for kind, body in items:
        if not _KIND.match(kind):
            raise EvidenceError(f"evidence entry kind '{kind}' is not a lowercase word; use one of {', '.join(KINDS)}")
        try:
            prepared.append((kind, PreparedBody(body)))
        except (TypeError, ValueError) as exc:
            raise EvidenceError(f"cannot log a '{kind}' entry: {exc}") from exc
    end = _reserve(session, len(prepared))
    start = end - len(prepared)
    now = utc_text(utcnow())
    rows = []
    for offset, (kind, ready) in enumerate(prepared):
        index = start + offset
        data = encode_entry(index, kind, now, ready)
        media_id, case_id, room_key = _subjects(session, ready.value)
        rows.append(
            {
                "leaf_index": index,
                "kind": kind,
                "entry": data.decode("utf-8"),
                "leaf_hash": leaf_hash(data).hex(),
                "media_id": media_id,
                "case_id": case_id,
                "room_key": room_key,
            }
        )
    session.connection().execute(_INSERT, rows)  # Core, prebuilt: no ORM bookkeeping per append
    return list(range(start, end))


def _reserve(session: Session, n: int) -> int:
    """Take `n` indexes; returns the new size of the log (the indexes are size-n .. size-1)."""
    end = session.connection().execute(_RESERVE, {"n": n}).scalar_one_or_none()
    if end is None:  # the migration inserts the row; recreate it if someone removed it
        session.add(EvidenceHead(id=1, size=n))
        session.flush()
        end = n
    return int(end)


def room_key(platform: str, platform_id: str) -> str:
    """How entries name a room: 'platform:platform_id'."""
    return f"{platform}:{platform_id}"


def _subjects(session: Session, body: Mapping[str, Any]) -> tuple[int | None, int | None, str | None]:
    media_id = body.get("media_id")
    if not isinstance(media_id, int) and isinstance(body.get("match_id"), int):
        media_id = session.scalar(select(Match.media_id).where(Match.id == body["match_id"]))
    case_id = body.get("case_id")
    if not isinstance(case_id, int) and isinstance(body.get("case_ref"), str):
        case_id = session.scalar(select(Case.id).where(Case.ref == body["case_ref"]))
    room = body.get("room")
    key = None
    if isinstance(room, Mapping) and room.get("platform_id") is not None:
        platform = room.get("platform")
        key = room_key(platform if isinstance(platform, str) else ANY_PLATFORM, str(room["platform_id"]))[:300]
    return (
        media_id if isinstance(media_id, int) else None,
        case_id if isinstance(case_id, int) else None,
        key,
    )


def log_size(session: Session) -> int:
    """Entries committed (or appended in this transaction)."""
    size = session.scalar(select(EvidenceHead.size).where(EvidenceHead.id == 1))
    return int(size or 0)


def read_entries(session: Session, since: int = 0, limit: int | None = None, kind: str | None = None) -> list[LogEntry]:
    """Entries from index `since` on, in order (optionally of one kind)."""
    stmt = select(EvidenceEntry).where(EvidenceEntry.leaf_index >= since).order_by(EvidenceEntry.leaf_index)
    if kind is not None:
        stmt = stmt.where(EvidenceEntry.kind == kind)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_entry(r) for r in session.scalars(stmt)]


def entries_at(session: Session, indexes: Iterable[int]) -> list[LogEntry]:
    wanted = sorted(set(indexes))
    out: list[LogEntry] = []
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        stmt = select(EvidenceEntry).where(EvidenceEntry.leaf_index.in_(chunk)).order_by(EvidenceEntry.leaf_index)
        out += [_entry(r) for r in session.scalars(stmt)]
    return out


def leaf_hashes(session: Session, size: int) -> list[bytes]:
    """The leaf hashes of the first `size` entries; raises if the log has gaps (it never should)."""
    rows = session.execute(
        select(EvidenceEntry.leaf_index, EvidenceEntry.leaf_hash)
        .where(EvidenceEntry.leaf_index < size)
        .order_by(EvidenceEntry.leaf_index)
    ).all()
    if len(rows) != size or (rows and rows[-1][0] != size - 1):
        raise EvidenceError(
            f"the evidence log should hold {size} entries but {len(rows)} were found; the database was altered "
            "outside Reclaim. Restore it from a backup and compare with your last exported checkpoint."
        )
    return [bytes.fromhex(h) for _, h in rows]


def _entry(row: EvidenceEntry) -> LogEntry:
    return LogEntry(row.leaf_index, row.kind, row.entry, row.leaf_hash)
