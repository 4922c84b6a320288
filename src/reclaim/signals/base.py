"""The `SignalType` interface. Adding a signal is adding a class and registering it, not editing a switch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from reclaim.media.image import DecodedImage
from reclaim.media.video import DecodedVideo
from reclaim.model import MediaType, SignalValue
from reclaim.settings import SignalOptions


@dataclass(frozen=True, slots=True)
class Content:
    """What a signal may look at: the raw bytes plus the decoded form for its media type."""

    data: bytes
    media_type: MediaType
    image: DecodedImage | None = None
    video: DecodedVideo | None = None
    options: SignalOptions = field(default_factory=SignalOptions)


@dataclass(frozen=True, slots=True)
class Computed:
    """A computed signal plus values used only as extra queries (never stored), e.g. PDQ of a flipped image."""

    value: SignalValue
    query_variants: tuple[str, ...] = ()


class SignalType(ABC):
    """A kind of signal: a name, the media it applies to, how to compute, compare and validate it."""

    name: ClassVar[str]
    # Name of the same signal type in python-threatexchange's text exchange format.
    pytx_names: ClassVar[dict[MediaType, str]]
    media_types: ClassVar[frozenset[MediaType]]
    # Distance at or under which two values are a match unless a bank says otherwise. 0 = exact only.
    default_threshold: ClassVar[float]
    # Whether comparing needs an index (near matches) rather than an equality lookup.
    approximate: ClassVar[bool]

    @abstractmethod
    def compute(self, content: Content) -> Computed | None:
        """Compute the signal, or None when it does not apply to this content."""

    @abstractmethod
    def validate(self, value: str) -> str:
        """Return the canonical form of `value`, or raise InvalidSignal saying what is wrong."""

    @abstractmethod
    def distance(self, a: str, b: str) -> float:
        """Distance between two canonical values: 0 is identical."""

    def to_pytx(self, value: str) -> str:
        """The value as python-threatexchange writes this signal type (one line)."""
        return value

    def from_pytx(self, text: str) -> str:
        """Parse python-threatexchange's form into the canonical value; raise InvalidSignal if malformed."""
        return self.validate(text)
