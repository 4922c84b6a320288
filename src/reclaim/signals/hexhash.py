"""Helpers for signals written as fixed-length lowercase hex strings."""

from __future__ import annotations

import re

from reclaim.errors import InvalidSignal

_HEX = re.compile(r"^[0-9a-f]+$")


def canonical_hex(value: str, n_chars: int, what: str) -> str:
    """Lowercase, strip, check length and alphabet; raise InvalidSignal naming the problem."""
    v = value.strip().lower()
    if len(v) != n_chars or not _HEX.match(v):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InvalidSignal(f"'{shown}' is not a valid {what}: expected {n_chars} hex characters")
    return v


def hamming_hex(a: str, b: str) -> int:
    """Bit distance between two equal-length hex strings."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
