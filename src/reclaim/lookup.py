"""Look files up against the banks without ingesting them: nothing is stored, not even the hashes.

For a caseworker who holds a file and wants to know, now, whether it is (a derivative of) something enrolled.
It runs the same stages as ingest — hash, propose, verify, decide — and reports matches and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks import get_bank
from reclaim.errors import ReclaimError
from reclaim.matcher import BankMatcher
from reclaim.matcher_cache import index_dir
from reclaim.matching.decide import Candidate
from reclaim.media.sniff import kind_from_name
from reclaim.settings import Settings
from reclaim.signals.hashing import hash_media
from reclaim.signals.pdq import PDQ_MIN_QUALITY
from reclaim.store.tables import BankEntry


def match_files(
    session: Session, paths: Iterable[Path], settings: Settings, bank: str | None = None
) -> list[dict[str, Any]]:
    """One result per file: its matches (and those a negative bank withheld), or the error that stopped it.

    With `bank`, only that bank's entries can match; negative banks still withhold matches.
    """
    matcher = BankMatcher.load(session, cache_dir=index_dir(settings))
    if bank is not None:
        wanted = get_bank(session, bank).id
        matcher.rules = {k: r for k, r in matcher.rules.items() if k == wanted or r.kind == "negative"}
    results: list[dict[str, Any]] = []
    for path in paths:
        result: dict[str, Any] = {
            "path": str(path),
            "sha256": None,
            "media_type": None,
            "low_quality": False,
            "matches": [],
            "suppressed": [],
            "error": None,
        }
        results.append(result)
        try:
            data = path.read_bytes()
            hashed = hash_media(data, settings.limits, kind_from_name(path.name), settings.signals)
            hashed = matcher.enrich(hashed, data, settings.limits)
        except ReclaimError as exc:
            result["error"] = str(exc)
            continue
        except OSError as exc:
            result["error"] = f"cannot read the file ({exc.strerror or exc.__class__.__name__})"
            continue
        del data
        pdq = hashed.signals.get("pdq")
        decision = matcher.decide(session, hashed)
        notes = _notes(session, {c.entry_id for c in [*decision.matches, *decision.suppressed]})
        result.update(
            sha256=hashed.sha256,
            media_type=hashed.media_type,
            low_quality=pdq is not None and pdq.quality is not None and pdq.quality < PDQ_MIN_QUALITY,
            matches=[_match_json(c, matcher, notes) for c in decision.matches],
            suppressed=[_match_json(c, matcher, notes) for c in decision.suppressed],
        )
    return results


def _notes(session: Session, entry_ids: set[int]) -> dict[int, str]:
    if not entry_ids:
        return {}
    return dict(session.execute(select(BankEntry.id, BankEntry.note).where(BankEntry.id.in_(sorted(entry_ids)))).all())


def _match_json(c: Candidate, matcher: BankMatcher, notes: dict[int, str]) -> dict[str, Any]:
    details = dict(c.details or {})
    return {
        "bank": matcher.rules[c.bank_id].name,
        "bank_entry_id": c.entry_id,
        "note": notes.get(c.entry_id),
        "method": c.method,
        "distance": c.distance,
        "score": c.score,
        "region": details.get("region"),
        "details": details or None,
    }
