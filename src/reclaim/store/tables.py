"""SQLAlchemy 2 tables for the DESIGN.md concepts. Media bytes are never stored here (hash-only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


# Named constraints, so later migrations can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}  # noqa: RUF012


class Room(Base):
    """A place media is shared: a Telegram chat, or a folder given to `ingest folder`."""

    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("platform", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Media(Base):
    """Bytes identified by SHA-256; only hashes and sizes are kept."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    md5: Mapped[str] = mapped_column(String(32), index=True)
    media_type: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    signals: Mapped[list[Signal]] = relationship(back_populates="media", cascade="all, delete-orphan")


class Sighting(Base):
    """Media seen at one place: a path in a folder, or a message in a room."""

    __tablename__ = "sighting"
    __table_args__ = (UniqueConstraint("media_id", "room_id", "locator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    # Stable place of the sighting within the room: relative path, or the message id as text.
    locator: Mapped[str] = mapped_column(String(2048))
    path: Mapped[str | None] = mapped_column(String(4096))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignalColumns:
    """A signal value as stored for media and for bank entries alike."""

    signal_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    # Short prefix of `value`, indexed for exact lookups (full vPDQ values are long).
    value_key: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None]


class Signal(SignalColumns, Base):
    """A signal computed from media (md5, sha256, pdq, vpdq, ...)."""

    __tablename__ = "signal"
    __table_args__ = (
        UniqueConstraint("media_id", "signal_type"),
        Index("ix_signal_type_value", "signal_type", "value_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"))

    media: Mapped[Media] = relationship(back_populates="signals")


class Case(Base):
    """One protected person: a pseudonymous reference and the consent that bounds what Reclaim may do for her."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(255), unique=True)
    minor: Mapped[bool] = mapped_column(default=False)
    consent_text: Mapped[str] = mapped_column(Text)
    # What the consent covers, e.g. ["face", "hashes"]; face search needs "face".
    consent_scope: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_recorded_by: Mapped[str] = mapped_column(String(255))
    consent_recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(255))


class Bank(Base):
    """A named set of reference signals with per-signal thresholds; a protected bank may belong to a case."""

    __tablename__ = "bank"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)

    entries: Mapped[list[BankEntry]] = relationship(back_populates="bank")


class BankEntry(Base):
    """One reference item in a bank: its signals and a note; never its bytes."""

    __tablename__ = "bank_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    bank: Mapped[Bank] = relationship(back_populates="entries")
    signals: Mapped[list[BankSignal]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="BankSignal.signal_type"
    )


class BankSignal(SignalColumns, Base):
    """A signal of a bank entry: computed from an enrolled file, or imported from an exchange."""

    __tablename__ = "bank_signal"
    __table_args__ = (
        UniqueConstraint("entry_id", "signal_type"),
        Index("ix_bank_signal_type_value", "signal_type", "value_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entry.id"))

    entry: Mapped[BankEntry] = relationship(back_populates="signals")


class Match(Base):
    """Media close to a bank entry by one method; `pending` until a reviewer decides."""

    __tablename__ = "match"
    __table_args__ = (UniqueConstraint("media_id", "bank_entry_id", "method"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"), index=True)
    bank_entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entry.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    distance: Mapped[float] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    # Method-specific facts, e.g. {"region": [x, y, w, h]} for a verified derivative or {"box": [...]} for a face.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class IngestError(Base):
    """An item an ingest could not use, with the reason; one row per place, updated when seen again."""

    __tablename__ = "ingest_error"
    __table_args__ = (UniqueConstraint("source", "locator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(1024))
    locator: Mapped[str] = mapped_column(String(4096))
    reason: Mapped[str] = mapped_column(Text)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
