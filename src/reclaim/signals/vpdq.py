"""vPDQ: PDQ of video frames, written as the reference tool does (one `frame,quality,pdq,seconds` per line)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import ClassVar

import numpy as np
import pdqhash

from reclaim.errors import InvalidSignal
from reclaim.model import MediaType, SignalValue, VpdqFrame
from reclaim.signals.base import Computed, Content, SignalType
from reclaim.signals.hexhash import canonical_hex, hamming_hex
from reclaim.signals.pdq import PDQ_HEX_CHARS, PDQ_THRESHOLD, bits_to_hex

# Two frames match when their PDQ hashes are this close (the reference vPDQ setting).
VPDQ_FRAME_THRESHOLD = PDQ_THRESHOLD


def format_vpdq(frames: Iterable[VpdqFrame]) -> str:
    return "\n".join(f"{f.frame},{f.quality},{f.pdq},{f.timestamp:.3f}" for f in frames)


def parse_vpdq(value: str) -> list[VpdqFrame]:
    """Parse the reference text form (lines or ';'-separated); raise InvalidSignal on any bad frame."""
    frames: list[VpdqFrame] = []
    for n, raw in enumerate(value.replace(";", "\n").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split(",")
        if len(parts) != 4:
            raise InvalidSignal(f"vPDQ frame {n} ('{line[:40]}') must be 'frame,quality,pdq,seconds'")
        try:
            frame, quality, seconds = int(parts[0]), int(parts[1]), float(parts[3])
        except ValueError:
            raise InvalidSignal(f"vPDQ frame {n} ('{line[:40]}') has a non-numeric field") from None
        if frame < 0 or not 0 <= quality <= 100 or seconds < 0:
            raise InvalidSignal(f"vPDQ frame {n} ('{line[:40]}') has an out-of-range field")
        frames.append(VpdqFrame(frame, quality, canonical_hex(parts[2], PDQ_HEX_CHARS, "PDQ hash"), seconds))
    if not frames:
        raise InvalidSignal("a vPDQ signal needs at least one frame")
    return frames


class VpdqSignal(SignalType):
    name = "vpdq"
    pytx_names: ClassVar[dict[MediaType, str]] = {"video": "vpdq"}
    media_types = frozenset({"video"})
    # Threshold on the median distance of matched frames; the share rule lives in matching/vpdq_rule.py.
    default_threshold = float(VPDQ_FRAME_THRESHOLD)
    approximate = True

    def compute(self, content: Content) -> Computed | None:
        if content.video is None:
            return None
        frames = []
        for f in content.video.frames(content.video.limits.vpdq_seconds_per_hash):
            bits, quality = pdqhash.compute(np.ascontiguousarray(f.rgb))
            frames.append(VpdqFrame(f.index, int(quality), bits_to_hex(bits), f.timestamp))
        if not frames:
            return None
        return Computed(SignalValue(self.name, format_vpdq(frames)))

    def validate(self, value: str) -> str:
        return format_vpdq(parse_vpdq(value))

    def to_pytx(self, value: str) -> str:
        """python-threatexchange's form: a JSON list of "hex,quality,seconds" (seconds to 3 significant digits)."""
        return json.dumps([f"{f.pdq},{f.quality},{f.timestamp:.3}" for f in parse_vpdq(value)])

    def from_pytx(self, text: str) -> str:
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidSignal("a pytx vPDQ signal must be a JSON list of 'hex,quality,seconds' strings") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidSignal("a pytx vPDQ signal must be a JSON list of 'hex,quality,seconds' strings")
        lines = []
        for n, item in enumerate(items):
            parts = item.split(",")
            if len(parts) != 3:
                raise InvalidSignal(f"pytx vPDQ frame {n} ('{item[:40]}') must be 'hex,quality,seconds'")
            lines.append(f"{n},{parts[1]},{parts[0]},{parts[2]}")
        # pytx does not carry frame numbers: frames are numbered in order, which the match rule never uses.
        return self.validate("\n".join(lines))

    def distance(self, a: str, b: str) -> float:
        """Median, over `a`'s frames, of the distance to the nearest frame of `b` (for display only)."""
        fa, fb = parse_vpdq(a), parse_vpdq(b)
        nearest = sorted(min(hamming_hex(x.pdq, y.pdq) for y in fb) for x in fa)
        return float(nearest[len(nearest) // 2])
