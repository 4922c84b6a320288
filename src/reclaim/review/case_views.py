"""Cases as the review service shows them: scoped to the viewer, with holds, requests and a timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts import Principal, scoped_case
from reclaim.cases import list_cases, show_case
from reclaim.store.evidence_tables import EvidenceHold
from reclaim.store.service_tables import AppUser, ReuploadAlert, ReviewDecision, TakedownRequest, TakedownStatus
from reclaim.store.tables import Bank, BankEntry, Match


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).isoformat()


def cases_for(session: Session, who: Principal) -> list[dict[str, Any]]:
    return [c for c in list_cases(session) if who.sees_case(c["id"])]


def case_detail(session: Session, who: Principal, key: str) -> dict[str, Any]:
    """Consent, minor flag, banks, match counts, holds, requests: what a caseworker opens a case for."""
    case = scoped_case(session, who, key)
    out = show_case(session, case.id)
    out["holds"] = [
        {"id": h.id, "note": h.note, "created_at": _iso(h.created_at), "removed_at": _iso(h.removed_at)}
        for h in session.scalars(select(EvidenceHold).where(EvidenceHold.case_id == case.id).order_by(EvidenceHold.id))
    ]
    out["requests"] = [
        {"id": r.id, "destination": r.destination, "status": r.status, "deadline_at": _iso(r.deadline_at)}
        for r in session.scalars(
            select(TakedownRequest).where(TakedownRequest.case_id == case.id).order_by(TakedownRequest.id)
        )
    ]
    return out


def timeline(session: Session, who: Principal, key: str) -> list[dict[str, Any]]:
    """Everything that happened in a case, oldest first: consent, matches, decisions, requests, alerts."""
    case = scoped_case(session, who, key)
    events: list[dict[str, Any]] = [
        {
            "at": _iso(case.consent_recorded_at),
            "kind": "consent",
            "text": f"consent recorded by {case.consent_recorded_by}",
        }
    ]
    if case.withdrawn_at is not None:
        events.append(
            {"at": _iso(case.withdrawn_at), "kind": "withdrawal", "text": f"withdrawn by {case.withdrawn_by}"}
        )
    matches = session.execute(
        select(Match.id, Match.method, Match.created_at)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Bank.case_id == case.id)
    ).all()
    events += [
        {"at": _iso(at), "kind": "match", "match_id": mid, "text": f"match {mid} found ({method})"}
        for mid, method, at in matches
    ]
    ids = [m[0] for m in matches]
    if ids:
        for d, name in session.execute(
            select(ReviewDecision, AppUser.name)
            .join(AppUser, AppUser.id == ReviewDecision.user_id)
            .where(ReviewDecision.match_id.in_(ids))
        ):
            events.append(
                {
                    "at": _iso(d.created_at),
                    "kind": "decision",
                    "match_id": d.match_id,
                    "text": f"match {d.match_id}: {d.action} by {name} ({d.reason})",
                }
            )
    for st, req in session.execute(
        select(TakedownStatus, TakedownRequest)
        .join(TakedownRequest, TakedownRequest.id == TakedownStatus.request_id)
        .where(TakedownRequest.case_id == case.id)
    ):
        events.append(
            {
                "at": _iso(st.created_at),
                "kind": "request",
                "request_id": req.id,
                "text": f"request {req.id} to {req.destination}: {st.status} ({st.set_by})",
            }
        )
    for alert in session.scalars(
        select(ReuploadAlert)
        .join(TakedownRequest, TakedownRequest.id == ReuploadAlert.request_id)
        .where(TakedownRequest.case_id == case.id)
    ):
        events.append(
            {
                "at": _iso(alert.created_at),
                "kind": "re-upload",
                "request_id": alert.request_id,
                "text": f"request {alert.request_id}: removed item seen again",
            }
        )
    return sorted(events, key=lambda e: e["at"] or "")
