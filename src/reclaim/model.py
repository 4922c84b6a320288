"""Core records passed between the pipeline stages: plain values, no database, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MediaType = Literal["image", "video"]

BankKind = Literal["protected", "known", "imported", "negative"]
BANK_KINDS: tuple[BankKind, ...] = ("protected", "known", "imported", "negative")

MatchStatus = Literal["pending", "confirmed", "rejected"]
MATCH_STATUSES: tuple[MatchStatus, ...] = ("pending", "confirmed", "rejected")


@dataclass(frozen=True, slots=True)
class SignalValue:
    """One signal computed from media: its type name, its canonical text value and, if any, a quality 0-100."""

    signal_type: str
    value: str
    quality: int | None = None


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    """One hashed video frame, as the reference vPDQ tool prints it."""

    frame: int
    quality: int
    pdq: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class HashedMedia:
    """What the hashing stage knows about one item of media; the bytes are not kept."""

    sha256: str
    md5: str
    media_type: MediaType
    size_bytes: int
    width: int | None
    height: int | None
    duration_s: float | None
    signals: dict[str, SignalValue]
    # Extra query values per signal type, never stored: e.g. PDQ of the seven other dihedral transforms
    # (rotations, flips) of an image, so that flipped or rotated copies match.
    query_variants: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def pdq(self) -> SignalValue | None:
        return self.signals.get("pdq")
