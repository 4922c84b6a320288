"""Enrolled face embeddings: the only face vectors Reclaim keeps, each tied to a case with face consent.

Why a table of its own rather than a `bank_signal` row: bank signals travel (bank show, pytx export to
exchanges), while a face embedding is biometric data bound to one person's consent. Here it can only be read by
the face matcher and is deleted with one statement when she withdraws. Each enrolled photo still gets a
`bank_entry` in the case's protected bank, so face matches are ordinary `match` rows that reviewers see with
every other match. Faces found in ingested media are never stored; only match rows (box, distance) are.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.store.tables import Base, utcnow


class FaceEmbedding(Base):
    """One enrolled face: the model's vector (float32, little-endian) and quality; never the photo."""

    __tablename__ = "face_embedding"
    __table_args__ = (UniqueConstraint("case_id", "model", "photo_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    bank_entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entry.id"), index=True)
    # Vectors of different models are never compared; switching models means enrolling again.
    model: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    quality: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the enrolled photo, so the same photo is not enrolled twice; the photo itself is not kept.
    photo_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
