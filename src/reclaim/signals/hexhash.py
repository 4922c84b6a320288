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


def canonical_records(value: str, header_hex: int, record_hex: int, max_records: int, what: str, layout: str) -> str:
    """Lowercase, strip and check a hex value made of a header and whole fixed-size records (SSCD vectors,
    keypoints); `layout` says in words what the header and the records are, for the error message."""
    v = value.strip().lower()
    body = len(v) - header_hex
    if body <= 0 or body % record_hex:
        raise InvalidSignal(f"{what} is {layout}; got {len(v)} characters")
    if body // record_hex > max_records:
        raise InvalidSignal(f"{what} holds at most {max_records} records")
    if not _HEX.match(v):
        raise InvalidSignal(f"{what} must be hexadecimal")
    return v


def hamming_hex(a: str, b: str) -> int:
    """Bit distance between two equal-length hex strings."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
