"""Evidence tables: the append-only log, its signed checkpoints, evidence holds and the held originals they keep.

Nothing in Reclaim updates or deletes `evidence_entry` or `evidence_checkpoint` rows; `evidence_head` is the one
counter that gives every entry its leaf index, and it is what serialises concurrent writers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.store.tables import Base, utcnow


class EvidenceHead(Base):
    """One row (id 1): the number of entries in the log. Appenders bump it with UPDATE ... RETURNING."""

    __tablename__ = "evidence_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)


class EvidenceEntry(Base):
    """One log entry: its canonical bytes (RFC 8785 JSON, as text) and RFC 9162 leaf hash, plus lookup columns."""

    __tablename__ = "evidence_entry"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    # Subjects the entry is about, copied out of the body so packages can find them (not foreign keys: the log
    # must never be blocked, or rewritten, by what happens to the rows it talks about).
    media_id: Mapped[int | None] = mapped_column(Integer, index=True)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    room_key: Mapped[str | None] = mapped_column(String(300), index=True)


class EvidenceCheckpoint(Base):
    """A signed statement of the log's size and root at a UTC time; only ever inserted."""

    __tablename__ = "evidence_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    # The exact signed text and its Ed25519 signature (base64), so a package can carry them byte for byte.
    note: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))


class EvidenceHold(Base):
    """An evidence hold on a room (platform id, any platform when `platform` is empty) or on a case."""

    __tablename__ = "evidence_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # "room" or "case"
    platform: Mapped[str | None] = mapped_column(String(32))
    platform_id: Mapped[str | None] = mapped_column(String(255), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(255))


class HeldBlob(Base):
    """An original kept under a hold: encrypted on disk under the workspace, addressed by its SHA-256."""

    __tablename__ = "held_blob"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"), index=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("evidence_hold.id"), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
