"""The canonical encoding of a log entry, the bytes its RFC 9162 leaf hash covers.

An entry is the RFC 8785 (JSON Canonicalization Scheme) serialisation, UTF-8, of::

    {"v": 1, "index": <leaf index>, "kind": <kind>, "logged_at": <UTC time, RFC 3339 with Z>, "body": {...}}

RFC 8785 fixes key order (UTF-16 code units), number formatting and string escaping, so any verifier in any
language re-derives the same bytes from the same values. The leaf index is inside the entry, so an entry moved to
another position no longer matches its leaf. Datetimes in a body are written as RFC 3339 UTC strings; anything
that is not JSON (bytes, sets, objects) is refused rather than guessed at.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

ENTRY_VERSION = 1
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def utc_text(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and a Z, the one time format entries use; naive times are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# RFC 8785 represents numbers as IEEE 754 doubles: integers beyond this are refused rather than rounded.
MAX_SAFE_INTEGER = 2**53 - 1
_PLAIN = re.compile(r"^[a-z0-9_]+$")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


class _Shape:
    """What the fast encoder must know about a value: whether it holds floats or keys beyond ASCII."""

    __slots__ = ("has_float", "odd_key")

    def __init__(self) -> None:
        self.has_float = False
        self.odd_key = False


def jsonable(value: Any, where: str = "body") -> Any:
    """`value` as plain JSON values (datetimes become UTC text); raises TypeError naming the bad field."""
    return _jsonable(value, where, _Shape())


def _jsonable(value: Any, where: str, shape: _Shape) -> Any:
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return value
    if kind is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"{where} has a non-text key {key!r}")
            if not key.isascii():
                shape.odd_key = True
            out[key] = _jsonable(item, f"{where}.{key}", shape)
        return out
    if kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise TypeError(f"{where} is an integer beyond 2**53, which JSON numbers cannot hold exactly")
        return value
    return _jsonable_other(value, where, shape)


def _jsonable_other(value: Any, where: str, shape: _Shape) -> Any:
    """The rarer types, and subclasses of the common ones, normalised to plain JSON values."""
    if isinstance(value, bool | str | int):  # subclasses (enums, ...) become the plain value
        plain = bool(value) if isinstance(value, bool) else str(value) if isinstance(value, str) else int(value)
        return _jsonable(plain, where, shape)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is not a finite number")
        shape.has_float = True
        return float(value)
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, Mapping):
        return _jsonable(dict(value), where, shape)
    if isinstance(value, list | tuple):
        return [_jsonable(item, f"{where}[{i}]", shape) for i, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__name__}, which an evidence entry cannot hold")


class PreparedBody:
    """A body checked and canonically encoded once, before any index is taken, so encoding cannot fail later."""

    __slots__ = ("encoded", "value")

    def __init__(self, body: Mapping[str, Any]) -> None:
        shape = _Shape()
        self.value = _jsonable(body, "body", shape)
        if not isinstance(self.value, dict):
            raise TypeError("body must be a JSON object")
        self.encoded = _dumps(self.value, shape)


def encode_entry(index: int, kind: str, logged_at: datetime | str, body: Mapping[str, Any] | PreparedBody) -> bytes:
    """The canonical bytes of one entry.

    The envelope's keys sort as body < index < kind < logged_at < v, so the entry is the canonical body spliced into
    a fixed frame; kind and time contain nothing JSON must escape (checked), so this equals RFC 8785 of the whole.
    """
    prepared = body if isinstance(body, PreparedBody) else PreparedBody(body)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= MAX_SAFE_INTEGER:
        raise ValueError(f"entry index {index!r} is not a whole number in JSON's exact range")
    stamp = logged_at if isinstance(logged_at, str) else utc_text(logged_at)
    if not _STAMP.match(stamp):
        raise ValueError(f"entry time {stamp!r} is not RFC 3339 UTC text")
    if not _PLAIN.match(kind):
        raise ValueError(f"entry kind {kind!r} must be plain lowercase text")
    return b"".join(
        (
            b'{"body":',
            prepared.encoded,
            b',"index":%d,"kind":"%s","logged_at":"%s","v":%d}'
            % (index, kind.encode("ascii"), stamp.encode("ascii"), ENTRY_VERSION),
        )
    )


def canonical(document: Any) -> bytes:
    """RFC 8785 bytes of any JSON value."""
    shape = _Shape()
    return _dumps(_jsonable(document, "document", shape), shape)


def _dumps(doc: Any, shape: _Shape) -> bytes:
    """RFC 8785. Without floats and with ASCII keys, the standard library's compact, key-sorted, non-ASCII-escaping
    output is byte-identical to RFC 8785 (same escapes, same order) and ~10x faster than the `rfc8785` package;
    anything else goes through `rfc8785`. tests/evidence/test_encoding.py checks the two agree."""
    if shape.has_float or shape.odd_key:
        return rfc8785.dumps(doc)
    try:
        return _COMPACT.encode(doc).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: not valid Unicode text
        raise TypeError(f"text that is not valid Unicode ({exc.reason})") from exc


def _json_int(text: str) -> int | float:
    """JSON numbers are doubles: an integer written beyond 2**53 came from a float (e.g. 2.0**53 prints as one)."""
    value = int(text)
    return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else float(value)


def is_canonical(data: bytes) -> bool:
    """True when `data` is exactly the RFC 8785 form of the JSON it holds (checked with the `rfc8785` package)."""
    try:
        return rfc8785.dumps(json.loads(data.decode("utf-8"), parse_int=_json_int)) == data
    except (ValueError, UnicodeDecodeError, RecursionError, rfc8785.CanonicalizationError):
        return False


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || entry)."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()
