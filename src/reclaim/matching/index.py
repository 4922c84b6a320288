"""The small interface every signal index implements, so a scalable engine can replace one without ripple."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, order=True)
class Hit:
    """A reference value close to a query: the caller's id for it and the distance."""

    distance: float
    ref_id: int


class SignalIndex(Protocol):
    """Add, remove and query reference values by caller-chosen integer ids."""

    def add(self, ref_ids: Sequence[int], values: Sequence[str]) -> None: ...

    def remove(self, ref_ids: Sequence[int]) -> None: ...

    def query(self, values: Sequence[str], threshold: float) -> list[list[Hit]]:
        """For each query value, every reference within `threshold` (inclusive), nearest first."""
        ...

    def __len__(self) -> int: ...
