"""The signal types Reclaim knows, by name. Register a new `SignalType` here and every stage picks it up."""

from __future__ import annotations

from reclaim.errors import UnknownSignalType
from reclaim.model import MediaType
from reclaim.signals.base import SignalType
from reclaim.signals.cryptographic import Md5Signal, Sha256Signal
from reclaim.signals.keypoints import KeypointsSignal
from reclaim.signals.pdq import PdqSignal
from reclaim.signals.sscd import SscdSignal
from reclaim.signals.vpdq import VpdqSignal

SIGNAL_TYPES: tuple[SignalType, ...] = (
    Sha256Signal(),
    Md5Signal(),
    PdqSignal(),
    VpdqSignal(),
    SscdSignal(),
    KeypointsSignal(),
)
_BY_NAME = {s.name: s for s in SIGNAL_TYPES}


def signal_type(name: str) -> SignalType:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownSignalType(f"unknown signal type '{name}'; known: {', '.join(sorted(_BY_NAME))}") from None


def by_pytx_name(pytx_name: str) -> tuple[SignalType, MediaType] | None:
    """The signal type and media type behind a python-threatexchange signal type name."""
    for s in SIGNAL_TYPES:
        for media_type, name in s.pytx_names.items():
            if name == pytx_name:
                return s, media_type
    return None
