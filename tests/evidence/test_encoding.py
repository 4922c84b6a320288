"""The fast canonical encoder is byte-identical to the `rfc8785` package on every JSON value it accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.evidence.encoding import (
    MAX_SAFE_INTEGER,
    PreparedBody,
    canonical,
    encode_entry,
    is_canonical,
    utc_text,
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
no_floats = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(st.characters(codec="utf-8")),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_equals_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        with pytest.raises((TypeError, ValueError)):
            canonical(value)
        return
    assert canonical(value) == expected
    assert is_canonical(expected)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), no_floats, max_size=6), st.integers(0, MAX_SAFE_INTEGER))
def test_entries_equal_rfc8785_of_the_whole_envelope(body: dict[str, object], index: int) -> None:
    try:
        prepared = PreparedBody(body)
    except (TypeError, ValueError):
        return  # lone surrogates: refused, as rfc8785 refuses them
    moment = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    data = encode_entry(index, "capture", moment, prepared)
    whole = {"v": 1, "index": index, "kind": "capture", "logged_at": utc_text(moment), "body": body}
    assert data == rfc8785.dumps(whole)
    assert json.loads(data)["body"] == body


def test_known_bytes_and_refusals() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    data = encode_entry(7, "capture", moment, {"z": 1.5, "a": "é\n\x01", "n": None, "when": moment, "l": (3, True)})
    assert data == (
        b'{"body":{"a":"\xc3\xa9\\n\\u0001","l":[3,true],"n":null,"when":"2026-01-02T03:04:05.678901Z","z":1.5},'
        b'"index":7,"kind":"capture","logged_at":"2026-01-02T03:04:05.678901Z","v":1}'
    )
    assert canonical({"b": 100.0, "a": 1e-7}) == b'{"a":1e-7,"b":100}'
    assert utc_text(datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))) == "2026-01-01T10:00:00.000000Z"
    for bad in ({"x": b"bytes"}, {"x": float("inf")}, {1: "non-text key"}, {"x": 2**60}, {"x": {1, 2}}):
        with pytest.raises(TypeError):
            PreparedBody(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode_entry(-1, "capture", moment, {})
    with pytest.raises(ValueError):
        encode_entry(0, 'bad"kind', moment, {})
