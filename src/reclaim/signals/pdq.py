"""PDQ: Meta's perceptual hash for photos (256 bits, Hamming distance, quality 0-100)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pdqhash
from PIL import Image

from reclaim.model import MediaType, SignalValue
from reclaim.signals.base import Computed, Content, SignalType
from reclaim.signals.hexhash import canonical_hex, hamming_hex

PDQ_HEX_CHARS = 64
# ThreatExchange's recommended match threshold and the quality under which a hash is too weak to match alone.
PDQ_THRESHOLD = 31
PDQ_MIN_QUALITY = 50


def bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256-element bit vector as the reference 64-hex string (first bit = most significant)."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def pdq_of_image(image: Image.Image) -> tuple[str, int, tuple[str, ...]]:
    """PDQ hex, quality, and the hashes of the image's seven other dihedral transforms."""
    pixels = np.asarray(image.convert("RGB"))
    hashes, quality = pdqhash.compute_dihedral(pixels)
    hexes = [bits_to_hex(h) for h in hashes]
    return hexes[0], int(quality), tuple(hexes[1:])


class PdqSignal(SignalType):
    name = "pdq"
    pytx_names: ClassVar[dict[MediaType, str]] = {"image": "pdq"}
    media_types = frozenset({"image"})
    default_threshold = float(PDQ_THRESHOLD)
    approximate = True

    def compute(self, content: Content) -> Computed | None:
        if content.image is None:
            return None
        value, quality, variants = pdq_of_image(content.image.image)
        return Computed(SignalValue(self.name, value, quality), query_variants=variants)

    def validate(self, value: str) -> str:
        return canonical_hex(value, PDQ_HEX_CHARS, "PDQ hash")

    def distance(self, a: str, b: str) -> float:
        return float(hamming_hex(a, b))
