"""Exact signals: MD5 (what platforms and exchanges share for video) and SHA-256 (Reclaim's media identity)."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from reclaim.model import MediaType, SignalValue
from reclaim.signals.base import Computed, Content, SignalType
from reclaim.signals.hexhash import canonical_hex


class ExactDigest(SignalType):
    """A digest of the file's bytes: identity of the file itself, whatever part of it other signals describe."""

    digest: ClassVar[str]
    hex_chars: ClassVar[int]
    media_types = frozenset({"image", "video"})
    default_threshold = 0.0
    approximate = False

    def compute(self, content: Content) -> Computed:
        return Computed(SignalValue(self.name, hashlib.new(self.digest, content.data).hexdigest()))

    def validate(self, value: str) -> str:
        return canonical_hex(value, self.hex_chars, f"{self.name.upper()} digest")

    def distance(self, a: str, b: str) -> float:
        return 0.0 if a == b else float("inf")


class Md5Signal(ExactDigest):
    name = "md5"
    digest = "md5"
    hex_chars = 32
    pytx_names: ClassVar[dict[MediaType, str]] = {"video": "video_md5"}


class Sha256Signal(ExactDigest):
    name = "sha256"
    digest = "sha256"
    hex_chars = 64
    pytx_names: ClassVar[dict[MediaType, str]] = {"video": "video_sha256"}
