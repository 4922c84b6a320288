"""python-threatexchange's plain-text exchange format: one `signal_type signal` per line.

Pure parsing and writing; validation names every bad line by number so nothing half-imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reclaim.errors import ReclaimError
from reclaim.model import MediaType
from reclaim.signals.registry import by_pytx_name, signal_type


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    line: int
    signal_type: str  # Reclaim's name
    media_type: MediaType
    value: str  # canonical
    note: str


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    reason: str


def pytx_lines(records: Iterable[tuple[str, MediaType | None, str]]) -> Iterator[str]:
    """Write (signal_type, media_type, value) as pytx lines; signals pytx has no name for are left out."""
    for name, media_type, value in records:
        st = signal_type(name)
        names = st.pytx_names
        if media_type is not None:
            pytx = names.get(media_type)
        else:  # entries imported without a media type: only an unambiguous name will do
            pytx = next(iter(names.values())) if len(names) == 1 else None
        if pytx is None:
            continue
        yield f"{pytx} {st.to_pytx(value)}"


def parse_pytx(text_lines: Iterable[str]) -> tuple[list[ExchangeRecord], list[BadLine]]:
    """Parse every line; blank lines and `#` comments are ignored."""
    good: list[ExchangeRecord] = []
    bad: list[BadLine] = []
    for n, raw in enumerate(text_lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            bad.append(BadLine(n, "expected 'signal_type signal'"))
            continue
        found = by_pytx_name(parts[0])
        if found is None:
            bad.append(BadLine(n, f"unknown signal type '{parts[0][:40]}'"))
            continue
        st, media_type = found
        try:
            value = st.from_pytx(parts[1])
        except ReclaimError as exc:
            bad.append(BadLine(n, str(exc)))
            continue
        good.append(ExchangeRecord(n, st.name, media_type, value, f"line {n}"))
    return good, bad
