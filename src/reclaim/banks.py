"""Banks: create, fill (hash-only), list, show, and exchange them in python-threatexchange's format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.errors import BankExists, BankNotFound, ConfigError, ExchangeFormatError, ReclaimError
from reclaim.matcher import DEFAULT_THRESHOLDS, match_earlier_media
from reclaim.media.sniff import kind_from_name
from reclaim.model import BANK_KINDS, MediaType, SignalValue
from reclaim.settings import Limits, SignalOptions
from reclaim.signals.exchange import parse_pytx, pytx_lines
from reclaim.signals.hashing import hash_for_enrolment
from reclaim.signals.pdq import PDQ_MIN_QUALITY
from reclaim.signals.registry import signal_type
from reclaim.store.records import value_key
from reclaim.store.tables import Bank, BankEntry, BankSignal

EXCHANGE_FORMATS = ("pytx",)


def parse_thresholds(items: Iterable[str]) -> dict[str, float]:
    """`pdq=31` style settings, checked against the signal types that compare by distance."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"threshold '{item}' must look like SIGNAL=DISTANCE, e.g. pdq=31")
        st = signal_type(name.strip())
        if not st.approximate:
            raise ConfigError(f"'{st.name}' matches exactly; it takes no threshold")
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"threshold for '{st.name}' must be a number, got '{raw}'") from None
        if value < 0:
            raise ConfigError(f"threshold for '{st.name}' must be >= 0, got {value}")
        out[st.name] = value
    return out


def get_bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise BankNotFound(f"no bank named '{name}'; see `reclaim bank list` or create it with `reclaim bank create`")
    return bank


def create_bank(
    session: Session,
    name: str,
    kind: str,
    thresholds: Mapping[str, float] | None = None,
    note: str | None = None,
) -> Bank:
    if kind not in BANK_KINDS:
        raise ConfigError(f"bank kind must be one of {', '.join(BANK_KINDS)}, got '{kind}'")
    if not name.strip():
        raise ConfigError("a bank needs a non-empty name")
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise BankExists(f"a bank named '{name}' already exists; pick another name or add to it with `bank add`")
    bank = Bank(name=name, kind=kind, thresholds=dict(thresholds or {}), note=note)
    session.add(bank)
    session.flush()
    return bank


@dataclass
class AddResult:
    path: str
    entry_id: int | None = None
    note: str | None = None
    signals: dict[str, str] = field(default_factory=dict)
    duplicate_of: int | None = None
    warning: str | None = None
    error: str | None = None
    earlier_matches: int = 0
    # A screenshot enrols the picture it shows: its box (x, y, w, h) in the screenshot's pixels.
    shown_picture: tuple[int, int, int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "entry_id": self.entry_id,
            "note": self.note,
            "signals": self.signals,
            "duplicate_of": self.duplicate_of,
            "warning": self.warning,
            "error": self.error,
            "earlier_matches": self.earlier_matches,
            "shown_picture": list(self.shown_picture) if self.shown_picture else None,
        }


def _find_entry(session: Session, bank_id: int, name: str, value: str) -> int | None:
    return session.scalar(
        select(BankSignal.entry_id)
        .join(BankEntry, BankEntry.id == BankSignal.entry_id)
        .where(
            BankEntry.bank_id == bank_id,
            BankSignal.signal_type == name,
            BankSignal.value_key == value_key(value),
        )
        .limit(1)
    )


def _add_entry(
    session: Session, bank: Bank, note: str, media_type: MediaType | None, signals: Iterable[SignalValue]
) -> BankEntry:
    entry = BankEntry(bank_id=bank.id, note=note, media_type=media_type)
    entry.signals = [
        BankSignal(signal_type=s.signal_type, value=s.value, value_key=value_key(s.value), quality=s.quality)
        for s in signals
    ]
    session.add(entry)
    session.flush()
    return entry


def add_files(
    session: Session,
    bank_name: str,
    paths: Iterable[Path],
    limits: Limits,
    note: str | None,
    options: SignalOptions | None = None,
    whole: bool = False,
) -> list[AddResult]:
    """Hash each file and store its signals as a bank entry. The bytes are read, hashed and dropped.

    Enrolment also stores the image's keypoints (never pixels) so that derivatives can be verified. A
    screenshot enrols the picture it shows unless `whole` (signals/hashing.hash_for_enrolment).
    """
    enrol = replace(options or SignalOptions(), keypoints=True)
    bank = get_bank(session, bank_name)
    results: list[AddResult] = []
    for path in paths:
        result = AddResult(path=str(path))
        results.append(result)
        try:
            hashed, result.shown_picture = hash_for_enrolment(
                path.read_bytes(), limits, kind_from_name(path.name), enrol, whole=whole
            )
        except ReclaimError as exc:
            result.error = str(exc)
            continue
        except OSError as exc:
            result.error = f"cannot read the file ({exc.strerror or exc.__class__.__name__})"
            continue
        # Keypoints (tens of KB, for verification only) are stored but not printed.
        result.signals = {k: v.value for k, v in hashed.signals.items() if k != "keypoints"}
        existing = _find_entry(session, bank.id, "sha256", hashed.sha256)
        if existing is not None:
            result.duplicate_of = existing
            result.entry_id = existing
            continue
        pdq = hashed.signals.get("pdq")
        if pdq is not None and pdq.quality is not None and pdq.quality < PDQ_MIN_QUALITY:
            result.warning = (
                f"PDQ quality {pdq.quality} is under {PDQ_MIN_QUALITY}: this photo will match only exact copies"
            )
        entry = _add_entry(session, bank, note or path.name, hashed.media_type, hashed.signals.values())
        result.entry_id, result.note = entry.id, entry.note
    new_entries = {r.entry_id: r for r in results if r.entry_id is not None and r.duplicate_of is None}
    for entry_id, count in match_earlier_media(session, list(new_entries)).items():
        new_entries[entry_id].earlier_matches = count
    return results


def list_banks(session: Session) -> list[dict[str, Any]]:
    counts = dict(
        session.execute(
            select(BankEntry.bank_id, func.count()).where(BankEntry.disabled_at.is_(None)).group_by(BankEntry.bank_id)
        ).all()
    )
    return [
        {
            "name": b.name,
            "kind": b.kind,
            "thresholds": effective_thresholds(b),
            "entries": int(counts.get(b.id, 0)),
            "enabled": b.enabled,
            "note": b.note,
        }
        for b in session.scalars(select(Bank).order_by(Bank.name))
    ]


def effective_thresholds(bank: Bank) -> dict[str, float]:
    approx = {k: v for k, v in DEFAULT_THRESHOLDS.items() if signal_type(k).approximate}
    return {**approx, **(bank.thresholds or {})}


def show_bank(session: Session, name: str) -> dict[str, Any]:
    bank = get_bank(session, name)
    entries = session.scalars(
        select(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.disabled_at.is_(None)).order_by(BankEntry.id)
    )
    return {
        "name": bank.name,
        "kind": bank.kind,
        "thresholds": effective_thresholds(bank),
        "entries": [
            {
                "id": e.id,
                "note": e.note,
                "signals": {s.signal_type: s.value for s in e.signals if s.signal_type != "keypoints"},
            }
            for e in entries
        ],
    }


def export_bank(session: Session, name: str, fmt: str) -> Iterator[str]:
    """Lines of the exchange file, streamed entry by entry."""
    if fmt not in EXCHANGE_FORMATS:
        raise ConfigError(f"unknown export format '{fmt}'; supported: {', '.join(EXCHANGE_FORMATS)}")
    bank = get_bank(session, name)
    rows = session.execute(
        select(BankSignal.signal_type, BankEntry.media_type, BankSignal.value)
        .join(BankEntry, BankEntry.id == BankSignal.entry_id)
        .where(BankEntry.bank_id == bank.id, BankEntry.disabled_at.is_(None))
        .order_by(BankEntry.id, BankSignal.signal_type)
        .execution_options(yield_per=1000)
    )
    yield from pytx_lines((st, _media_type(mt), v) for st, mt, v in rows)


def _media_type(value: str | None) -> MediaType | None:
    return "image" if value == "image" else "video" if value == "video" else None


@dataclass
class ImportReport:
    imported: int
    duplicates: int
    bad_lines: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"imported": self.imported, "duplicates": self.duplicates, "invalid": self.bad_lines}


def import_bank(session: Session, name: str, lines: Iterable[str], fmt: str, skip_invalid: bool) -> ImportReport:
    """Import every valid line, or nothing at all when a line is bad and `skip_invalid` is off."""
    if fmt not in EXCHANGE_FORMATS:
        raise ConfigError(f"unknown import format '{fmt}'; supported: {', '.join(EXCHANGE_FORMATS)}")
    bank = get_bank(session, name)
    good, bad = parse_pytx(lines)
    bad_json = [{"line": b.line, "reason": b.reason} for b in bad]
    if bad and not skip_invalid:
        shown = "; ".join(f"line {b.line}: {b.reason}" for b in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise ExchangeFormatError(
            f"{len(bad)} invalid line(s), nothing imported: {shown}{more}. "
            "Fix the file, or pass --skip-invalid to import the valid lines only.",
            [(b.line, b.reason) for b in bad],
        )
    imported = duplicates = 0
    for rec in good:
        if _find_entry(session, bank.id, rec.signal_type, rec.value) is not None:
            duplicates += 1
            continue
        _add_entry(session, bank, rec.note, rec.media_type, [SignalValue(rec.signal_type, rec.value)])
        imported += 1
    return ImportReport(imported, duplicates, bad_json)
