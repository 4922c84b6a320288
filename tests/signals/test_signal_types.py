"""One conformance suite for every registered signal type: a new `SignalType` inherits all of it."""

from __future__ import annotations

from functools import cache

import pytest

from reclaim import synthetic
from reclaim.errors import InvalidSignal
from reclaim.model import HashedMedia
from reclaim.settings import Limits, SignalOptions
from reclaim.signals.base import SignalType
from reclaim.signals.exchange import parse_pytx, pytx_lines
from reclaim.signals.hashing import hash_media
from reclaim.signals.registry import SIGNAL_TYPES, by_pytx_name, signal_type

IDS = [s.name for s in SIGNAL_TYPES]
# Every optional signal on, so that each registered type is computed and checked.
ALL = SignalOptions(keypoints=True)


@cache
def original(media_type: str) -> bytes:
    if media_type == "image":
        return synthetic.jpeg_bytes(synthetic.sample("astronaut"), 95)
    return synthetic.pattern_video(seed=3, seconds=3.0)


@cache
def transformed(media_type: str) -> bytes:
    """A re-encoded, smaller copy: every approximate signal must still match it."""
    if media_type == "image":
        return synthetic.jpeg_bytes(synthetic.resize(synthetic.reencode(synthetic.sample("astronaut"), 50), 0.6), 70)
    return synthetic.reencode_video(original("video"))


@cache
def hashed(data: bytes) -> HashedMedia:
    return hash_media(data, Limits(), options=ALL)


def media_types(st: SignalType) -> list[str]:
    return sorted(st.media_types)


@pytest.mark.parametrize("st", SIGNAL_TYPES, ids=IDS)
def test_output_is_stable_and_canonical(st: SignalType) -> None:
    for mt in media_types(st):
        a = hashed(original(mt)).signals[st.name]
        b = hash_media(original(mt), Limits(), options=ALL).signals[st.name]
        assert a == b
        assert st.validate(a.value) == a.value
        assert st.distance(a.value, a.value) == 0


@pytest.mark.parametrize("st", SIGNAL_TYPES, ids=IDS)
def test_validate_normalises_case_and_whitespace(st: SignalType) -> None:
    value = hashed(original(media_types(st)[0])).signals[st.name].value
    assert st.validate(f"  {value.upper()}  ") == value


@pytest.mark.parametrize("st", SIGNAL_TYPES, ids=IDS)
@pytest.mark.parametrize("garbage", ["", "xyz", "0" * 63, "g" * 64, "0" * 65, "1,2,3", "0,100,zz,0.0"])
def test_refuses_garbage(st: SignalType, garbage: str) -> None:
    with pytest.raises(InvalidSignal):
        st.validate(garbage)


@pytest.mark.parametrize("st", [s for s in SIGNAL_TYPES if s.approximate], ids=lambda s: s.name)
def test_matches_its_own_transforms(st: SignalType) -> None:
    for mt in media_types(st):
        a = hashed(original(mt)).signals[st.name].value
        b = hashed(transformed(mt)).signals[st.name].value
        assert a != b
        assert st.distance(a, b) <= st.default_threshold


@pytest.mark.parametrize("st", [s for s in SIGNAL_TYPES if s.pytx_names], ids=lambda s: s.name)
def test_round_trips_through_pytx_format(st: SignalType) -> None:
    for mt, pytx_name in st.pytx_names.items():
        value = hashed(original(mt)).signals[st.name].value
        lines = list(pytx_lines([(st.name, mt, value)]))
        assert len(lines) == 1
        assert lines[0].split(" ", 1)[0] == pytx_name
        assert "\n" not in lines[0]
        good, bad = parse_pytx(lines)
        assert bad == []
        assert [(r.signal_type, r.media_type, r.value) for r in good] == [(st.name, mt, value)]
        assert by_pytx_name(pytx_name) == (signal_type(st.name), mt)


def test_signals_pytx_cannot_name_are_not_exported() -> None:
    """pytx has no photo MD5 or photo SHA-256 type: writing one under a video name would mislead a partner."""
    image = hashed(original("image"))
    lines = list(pytx_lines((name, "image", s.value) for name, s in image.signals.items()))
    assert [line.split(" ", 1)[0] for line in lines] == ["pdq"]
