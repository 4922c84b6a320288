"""The matcher's indexes persisted beside the database, so a 10M-entry bank is not rebuilt on every run.

Files in `<workspace>/index/`: `manifest.json`, `pdq.faiss` (flat) or `pdq.npz` (multi-index hashing),
`sscd-<model>.faiss` per SSCD model, `entries.npy` (the bank entries the indexes cover). FAISS's and numpy's
own formats: no pickle.

The database stays the truth. On load the copy is checked against it:
- same database, same enabled banks, and the entries with PDQ/SSCD rows up to the manifest's last row id
  are exactly `entries.npy` -> used as is, then rows added since are added (incremental add);
- otherwise, if removing the entries disabled since explains the difference -> they are removed
  (incremental disable);
- otherwise (a bank enabled or disabled, rows deleted, another database, unreadable files) -> rebuilt.
Writes go to temporary names and are renamed into place, manifest last.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from reclaim.matcher import INDEXED_SIGNALS, BankMatcher
from reclaim.matching.float_index import FloatIndex
from reclaim.matching.pdq_flat import PdqFlatIndex
from reclaim.matching.pdq_mih import PdqMultiHashIndex
from reclaim.settings import Settings
from reclaim.signals.sscd import SSCD_DIM
from reclaim.store.tables import BankEntry, BankSignal

log = logging.getLogger(__name__)

FORMAT = 2
MANIFEST = "manifest.json"


def index_dir(settings: Settings) -> Path:
    return settings.home / "index"


def _db_key(session: Session) -> str:
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _signature(session: Session, matcher: BankMatcher, max_id: int) -> tuple[int, int]:
    """(number, sum) of distinct active entries with PDQ/SSCD rows up to `max_id`: cheap to compare."""
    stmt = matcher._active(
        select(func.count(distinct(BankSignal.entry_id)), func.coalesce(func.sum(distinct(BankSignal.entry_id)), 0))
    ).where(BankSignal.signal_type.in_(INDEXED_SIGNALS), BankSignal.id <= max_id)
    count, total = session.execute(stmt).one()
    return int(count or 0), int(total or 0)


def _read(cache_dir: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((cache_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def _load_files(matcher: BankMatcher, cache_dir: Path, manifest: dict[str, Any]) -> None:
    if manifest["pdq"] == "mih":
        matcher.pdq = PdqMultiHashIndex.load(cache_dir / "pdq.npz")
    else:
        matcher.pdq = PdqFlatIndex.load(cache_dir / "pdq.faiss")
    matcher.sscd = {fp: FloatIndex.load(cache_dir / f"sscd-{fp}.faiss", SSCD_DIM) for fp in manifest["sscd"]}
    matcher.indexed_entries = np.load(cache_dir / "entries.npy", allow_pickle=False)
    matcher.max_signal_id = int(manifest["max_signal_id"])


def load_or_build(session: Session, matcher: BankMatcher, cache_dir: Path) -> None:
    """Fill `matcher`'s PDQ and SSCD indexes from the persisted copy when it is still right, else rebuild."""
    manifest = _read(cache_dir)
    enabled = sorted(matcher.rules)
    if manifest is not None and manifest.get("db") == _db_key(session) and manifest.get("banks") == enabled:
        try:
            _load_files(matcher, cache_dir, manifest)
        except (OSError, ValueError, KeyError, RuntimeError):
            log.warning("matcher.index_unreadable")
        else:
            if _reconcile(session, matcher):
                added = matcher.add_rows(matcher.indexed_rows(session, after_id=int(manifest["max_signal_id"])))
                if matcher.outgrew_flat_pdq():
                    matcher.build(session)  # once, when adds take the bank past the flat index's range
                    save(matcher, cache_dir, session)
                elif added or matcher.index_state == "updated":
                    matcher.index_state = "updated"
                    save(matcher, cache_dir, session)
                else:
                    matcher.index_state = "loaded"
                return
    matcher.build(session)
    save(matcher, cache_dir, session)


def _reconcile(session: Session, matcher: BankMatcher) -> bool:
    """True when the loaded indexes match the database up to their last row (after removing disabled entries)."""
    current = _signature(session, matcher, matcher.max_signal_id)
    have = matcher.indexed_entries
    if current == (len(have), int(have.sum())):
        return True
    # Disabling is rare and kept: all disabled entries is a short list.
    disabled = np.fromiter(
        session.scalars(select(BankEntry.id).where(BankEntry.disabled_at.is_not(None))), dtype=np.int64
    )
    gone = np.intersect1d(have, disabled)
    left = np.setdiff1d(have, gone)
    if len(gone) and current == (len(left), int(left.sum())):
        matcher.remove_entries(gone.tolist())
        matcher.index_state = "updated"
        return True
    return False


def save(matcher: BankMatcher, cache_dir: Path, session: Session) -> None:
    """Write the indexes and then the manifest, each under a temporary name renamed into place."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        kind = "mih" if isinstance(matcher.pdq, PdqMultiHashIndex) else "flat"
        pdq_path = cache_dir / ("pdq.npz" if kind == "mih" else "pdq.faiss")
        tmp = pdq_path.with_suffix(".tmp")
        assert isinstance(matcher.pdq, PdqMultiHashIndex | PdqFlatIndex)
        matcher.pdq.save(tmp)
        os.replace(tmp, pdq_path)
        for fp, index in matcher.sscd.items():
            path = cache_dir / f"sscd-{fp}.faiss"
            index.save(path.with_suffix(".tmp"))
            os.replace(path.with_suffix(".tmp"), path)
        with (cache_dir / "entries.tmp").open("wb") as f:
            np.save(f, matcher.indexed_entries, allow_pickle=False)
        os.replace(cache_dir / "entries.tmp", cache_dir / "entries.npy")
        manifest = {
            "format": FORMAT,
            "db": _db_key(session),
            "banks": sorted(matcher.rules),
            "max_signal_id": matcher.max_signal_id,
            "pdq": kind,
            "sscd": sorted(matcher.sscd),
            "entries": len(matcher.indexed_entries),
        }
        (cache_dir / "manifest.tmp").write_text(json.dumps(manifest), encoding="utf-8")
        os.replace(cache_dir / "manifest.tmp", cache_dir / MANIFEST)
    except OSError as exc:
        # The copy is an optimisation: matching goes on with the indexes in memory.
        log.warning("matcher.index_not_saved", extra={"reason": exc.strerror or exc.__class__.__name__})
