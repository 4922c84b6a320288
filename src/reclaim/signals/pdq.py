"""PDQ: Meta's perceptual hash for photos (256 bits, Hamming distance, quality 0-100)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from reclaim.media.image import DecodedImage
from reclaim.model import MediaType, SignalValue
from reclaim.signals.base import Computed, Content, SignalType
from reclaim.signals.hexhash import canonical_hex, hamming_hex
from reclaim.signals.pdq_numpy import dct_of_rgb, dihedral_dcts, hash_of_dct

PDQ_HEX_CHARS = 64
# ThreatExchange's recommended match threshold and the quality under which a hash is too weak to match alone.
PDQ_THRESHOLD = 31
PDQ_MIN_QUALITY = 50


def bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256-element bit vector as the reference 64-hex string (first bit = most significant)."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def pdq_of_decoded(decoded: DecodedImage) -> tuple[str, int, tuple[str, ...]]:
    """PDQ of a decoded image, honouring the draft scale it was decoded at."""
    dct, quality = dct_of_rgb(np.asarray(decoded.image), (decoded.width, decoded.height), decoded.scale)
    hexes = [hash_of_dct(d) for d in dihedral_dcts(dct)]
    return hexes[0], quality, tuple(hexes[1:])


class PdqSignal(SignalType):
    name = "pdq"
    pytx_names: ClassVar[dict[MediaType, str]] = {"image": "pdq"}
    media_types = frozenset({"image"})
    default_threshold = float(PDQ_THRESHOLD)
    approximate = True

    def compute(self, content: Content) -> Computed | None:
        if content.image is None:
            return None
        value, quality, variants = pdq_of_decoded(content.image)
        return Computed(SignalValue(self.name, value, quality), query_variants=variants)

    def validate(self, value: str) -> str:
        return canonical_hex(value, PDQ_HEX_CHARS, "PDQ hash")

    def distance(self, a: str, b: str) -> float:
        return float(hamming_hex(a, b))
