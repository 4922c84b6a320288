"""Cases: one protected person, the consent that bounds what Reclaim may do for her, and its withdrawal.

A case is created with a recorded consent (who consented, to what, who recorded it, when) and a protected bank of
its own. Consent to "face" is what allows enrolling her face and scanning ingested media for it; withdrawing the
case deletes her face embeddings in the same transaction, disables her bank (so nothing matches it again) and logs
the withdrawal in the evidence log. Matches found before the withdrawal stay, as the record of what was found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from reclaim.errors import CaseExists, CaseNotFound, ConfigError, ConsentMissing
from reclaim.evidence.log import append_entry
from reclaim.store.face_tables import FaceEmbedding
from reclaim.store.tables import Bank, BankEntry, Case, Match, utcnow

CONSENT_SCOPES = ("face", "hashes")
DEFAULT_SCOPE = ("hashes",)


def parse_scope(text: str | Iterable[str] | None) -> list[str]:
    """`face,hashes` into a sorted list of known scopes; hash-only when nothing is said."""
    if text is None:
        return list(DEFAULT_SCOPE)
    items = text.split(",") if isinstance(text, str) else list(text)
    scope = sorted({i.strip().lower() for i in items if i.strip()})
    unknown = [s for s in scope if s not in CONSENT_SCOPES]
    if unknown or not scope:
        raise ConfigError(
            f"consent scope must be a comma-separated list of {', '.join(CONSENT_SCOPES)}, got '{text}'"
            if unknown
            else "consent scope is empty; give --scope hashes, --scope face or --scope face,hashes"
        )
    return scope


def bank_name(ref: str) -> str:
    """The case's protected bank: enrolled faces (and any hashes added with `bank add`) live there."""
    return f"case-{ref}"


def create_case(
    session: Session,
    ref: str,
    consent_text: str,
    recorded_by: str,
    scope: Iterable[str] | str | None = None,
    minor: bool = False,
) -> Case:
    """Record a case and its consent, give it a protected bank, and log the consent in the evidence log."""
    ref = ref.strip()
    if not ref:
        raise ConfigError("a case needs a pseudonymous reference (--ref), e.g. 'case-17'")
    if not consent_text.strip():
        raise ConfigError("the consent text is empty; give the words she agreed to (--consent-text or --consent-file)")
    if not recorded_by.strip():
        raise ConfigError("say who recorded the consent (--recorded-by NAME)")
    scopes = parse_scope(scope)
    if session.scalar(select(Case.id).where(Case.ref == ref)) is not None:
        raise CaseExists(f"a case with reference '{ref}' already exists; see `reclaim case show {ref}`")
    if session.scalar(select(Bank.id).where(Bank.name == bank_name(ref))) is not None:
        raise CaseExists(
            f"a bank named '{bank_name(ref)}' already exists and would collide with this case's bank; "
            "pick another case reference"
        )
    now = utcnow()
    case = Case(
        ref=ref,
        minor=minor,
        consent_text=consent_text,
        consent_scope=scopes,
        consent_recorded_by=recorded_by.strip(),
        consent_recorded_at=now,
        created_at=now,
    )
    session.add(case)
    session.flush()
    session.add(Bank(name=bank_name(ref), kind="protected", thresholds={}, case_id=case.id, note=f"case {ref}"))
    session.flush()
    append_entry(
        session,
        "consent",
        {
            "case_id": case.id,
            "case_ref": ref,
            "minor": minor,
            "scope": scopes,
            # The text itself may name her; the log proves it by hash and the case row keeps the words.
            "consent_text_sha256": hashlib.sha256(consent_text.encode("utf-8")).hexdigest(),
            "recorded_by": case.consent_recorded_by,
            "recorded_at": _iso(now),
        },
    )
    return case


def get_case(session: Session, key: str | int) -> Case:
    """A case by its reference, else by its numeric id."""
    text = str(key).strip()
    case = session.scalar(select(Case).where(Case.ref == text))
    if case is None and text.isdigit():
        case = session.get(Case, int(text))
    if case is None:
        raise CaseNotFound(f"no case '{text}'; see `reclaim case list`")
    return case


def require_face_consent(case: Case) -> None:
    """Raise unless the case is active and its consent covers face search."""
    if case.withdrawn_at is not None:
        raise ConsentMissing(
            f"case '{case.ref}' was withdrawn on {_iso(case.withdrawn_at)}; "
            "her face can no longer be enrolled or searched"
        )
    if "face" not in (case.consent_scope or []):
        raise ConsentMissing(
            f"case '{case.ref}' has no recorded consent to face search (scope: {', '.join(case.consent_scope or [])});"
            " record a new consent that includes 'face' before enrolling her face"
        )


def case_bank(session: Session, case: Case) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.case_id == case.id, Bank.kind == "protected").order_by(Bank.id))
    if bank is None:  # a case made before banks were created with it
        bank = Bank(name=bank_name(case.ref), kind="protected", thresholds={}, case_id=case.id, note=f"case {case.ref}")
        session.add(bank)
        session.flush()
    return bank


def _iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601; SQLite hands datetimes back without their zone, and they were stored as UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).isoformat()


def consent_json(case: Case) -> dict[str, Any]:
    return {
        "text": case.consent_text,
        "scope": list(case.consent_scope or []),
        "recorded_by": case.consent_recorded_by,
        "recorded_at": _iso(case.consent_recorded_at),
    }


def created_json(case: Case) -> dict[str, Any]:
    """What `case create --json` prints."""
    return {"id": case.id, "ref": case.ref, "minor": case.minor, "consent": consent_json(case)}


def show_case(session: Session, key: str | int) -> dict[str, Any]:
    case = get_case(session, key)
    models = dict(
        session.execute(
            select(FaceEmbedding.model, func.count())
            .where(FaceEmbedding.case_id == case.id)
            .group_by(FaceEmbedding.model)
        ).all()
    )
    matches = dict(
        session.execute(
            select(Match.method, func.count())
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.case_id == case.id)
            .group_by(Match.method)
        ).all()
    )
    banks = session.scalars(select(Bank.name).where(Bank.case_id == case.id).order_by(Bank.id)).all()
    return {
        **created_json(case),
        "created_at": _iso(case.created_at),
        "withdrawn": None if case.withdrawn_at is None else {"at": _iso(case.withdrawn_at), "by": case.withdrawn_by},
        "banks": list(banks),
        "faces": {"enrolled": sum(int(n) for n in models.values()), "models": {k: int(v) for k, v in models.items()}},
        "matches": {k: int(v) for k, v in sorted(matches.items())},
    }


def list_cases(session: Session) -> list[dict[str, Any]]:
    faces = dict(session.execute(select(FaceEmbedding.case_id, func.count()).group_by(FaceEmbedding.case_id)).all())
    return [
        {
            "id": c.id,
            "ref": c.ref,
            "minor": c.minor,
            "scope": list(c.consent_scope or []),
            "recorded_at": _iso(c.consent_recorded_at),
            "withdrawn_at": _iso(c.withdrawn_at),
            "faces": int(faces.get(c.id, 0)),
        }
        for c in session.scalars(select(Case).order_by(Case.id))
    ]


def withdraw_case(session: Session, key: str | int, by: str) -> dict[str, Any]:
    """Withdraw consent: purge her face embeddings, disable her banks and entries, log it. Safe to repeat."""
    if not by.strip():
        raise ConfigError("say who recorded the withdrawal (--by NAME)")
    case = get_case(session, key)
    already = case.withdrawn_at is not None
    now = utcnow()
    purged = _rowcount(session.execute(delete(FaceEmbedding).where(FaceEmbedding.case_id == case.id)))
    bank_ids = list(session.scalars(select(Bank.id).where(Bank.case_id == case.id)))
    disabled = 0
    if bank_ids:
        session.execute(update(Bank).where(Bank.id.in_(bank_ids)).values(enabled=False))
        disabled = _rowcount(
            session.execute(
                update(BankEntry)
                .where(BankEntry.bank_id.in_(bank_ids), BankEntry.disabled_at.is_(None))
                .values(disabled_at=now)
            )
        )
    kept = (
        session.scalar(
            select(func.count())
            .select_from(Match)
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .where(BankEntry.bank_id.in_(bank_ids))
        )
        if bank_ids
        else 0
    )
    if not already:
        case.withdrawn_at = now
        case.withdrawn_by = by.strip()
        session.flush()
        append_entry(
            session,
            "withdrawal",
            {
                "case_id": case.id,
                "case_ref": case.ref,
                "withdrawn_by": case.withdrawn_by,
                "withdrawn_at": _iso(now),
                "purged_face_embeddings": int(purged or 0),
                "disabled_bank_entries": int(disabled or 0),
            },
        )
    return {
        "id": case.id,
        "ref": case.ref,
        "withdrawn_at": _iso(case.withdrawn_at),
        "withdrawn_by": case.withdrawn_by,
        "already_withdrawn": already,
        "purged_face_embeddings": int(purged or 0),
        "disabled_bank_entries": int(disabled or 0),
        "kept_matches": int(kept or 0),
    }


def _rowcount(result: Any) -> int:
    """Rows a bulk DELETE/UPDATE touched (a CursorResult attribute the generic Result type does not declare)."""
    return int(getattr(result, "rowcount", 0) or 0)
