"""The review queue as the service sees it: scoped listing, decisions, reveals and the seen-today counter.

Every decision and every reveal goes into the evidence log (who, when, why) in the same transaction as its row,
so the log and the tables can never disagree. A match belongs to the case of its bank (a face match also names
its case in `details`); users see only matches of cases they may see.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from reclaim.accounts import Principal
from reclaim.errors import ConfigError, EvidenceError, InvalidTransition, NoPreview, NotFound
from reclaim.evidence.holds import open_original
from reclaim.evidence.log import append_entry
from reclaim.review.previews import render_preview
from reclaim.review.queue import _sightings
from reclaim.rooms.listings import sources_of
from reclaim.settings import Settings
from reclaim.store.evidence_tables import HeldBlob
from reclaim.store.service_tables import AppUser, MediaView, ReviewDecision
from reclaim.store.tables import Bank, BankEntry, Case, Match, Media, utcnow

ACTIONS = {"confirm": "confirmed", "reject": "rejected", "escalate": "pending"}
REVEAL_MINUTES = 15  # a reveal lets its viewer see the clear preview for this long
MAX_REASON = 2000


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ConfigError(f"{what} needs a reason; say in a few words why")
    if len(text) > MAX_REASON:
        raise ConfigError(f"the reason is {len(text)} characters; keep it under {MAX_REASON}")
    return text


def _case_of(bank_case: int | None, match: Match) -> int | None:
    if bank_case is not None:
        return bank_case
    case = (match.details or {}).get("case")
    return case if isinstance(case, int) else None


def _scope_filter(who: Principal) -> Any:
    if who.all_cases:
        return None
    cond = Bank.case_id.in_(sorted(who.case_ids)) if who.case_ids else None
    if who.sees_caseless:
        caseless = Bank.case_id.is_(None)
        return caseless if cond is None else or_(cond, caseless)
    return cond if cond is not None else Bank.id.is_(None)  # no cases: nothing


def _base_query() -> Any:
    return (
        select(Match, Media, Bank)
        .join(Media, Media.id == Match.media_id)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
    )


def list_queue(
    session: Session,
    who: Principal,
    status: str | None = "pending",
    case_id: int | None = None,
    limit: int = 50,
    after_id: int = 0,
) -> list[dict[str, Any]]:
    """Matches the user may see, oldest first, with sightings, source links and held/escalated flags."""
    if status is not None and status not in ("pending", "confirmed", "rejected"):
        raise ConfigError(f"status must be pending, confirmed or rejected, got '{status}'")
    limit = max(1, min(limit, 500))
    stmt = _base_query().where(Match.id > after_id).order_by(Match.id).limit(limit)
    cond = _scope_filter(who)
    if cond is not None:
        stmt = stmt.where(cond)
    if status is not None:
        stmt = stmt.where(Match.status == status)
    if case_id is not None:
        who.require_case(case_id)
        stmt = stmt.where(Bank.case_id == case_id)
    rows = list(session.execute(stmt).all())
    return _describe(session, rows)


def get_match(session: Session, who: Principal, match_id: int) -> dict[str, Any]:
    row = session.execute(_base_query().where(Match.id == match_id)).first()
    if row is None:
        raise NotFound(f"no match {match_id}")
    who.require_case(_case_of(row[2].case_id, row[0]))
    return _describe(session, [row])[0]


def _load(session: Session, who: Principal, match_id: int) -> tuple[Match, Media, Bank]:
    row = session.execute(_base_query().where(Match.id == match_id)).first()
    if row is None:
        raise NotFound(f"no match {match_id}")
    match, media, bank = row
    who.require_case(_case_of(bank.case_id, match))
    return match, media, bank


def _describe(session: Session, rows: list[Any]) -> list[dict[str, Any]]:
    media_ids = {m.media_id for m, _, _ in rows}
    sightings = _sightings(session, media_ids)
    derived = sources_of(session, media_ids)
    shas = {media.sha256 for _, media, _ in rows}
    for links in derived.values():
        shas.update(link["media_sha256"] for link in links)
    held = set(session.scalars(select(HeldBlob.sha256).where(HeldBlob.sha256.in_(sorted(shas))))) if shas else set()
    match_ids = [m.id for m, _, _ in rows]
    escalated = (
        set(
            session.scalars(
                select(ReviewDecision.match_id).where(
                    ReviewDecision.match_id.in_(match_ids), ReviewDecision.action == "escalate"
                )
            )
        )
        if match_ids
        else set()
    )
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_({b.case_id for _, _, b in rows})))}
    out = []
    for m, media, bank in rows:
        case_id = _case_of(bank.case_id, m)
        case = cases.get(case_id) if case_id is not None else None
        details = m.details or {}
        out.append(
            {
                "id": m.id,
                "status": m.status,
                "escalated": m.id in escalated,
                "method": m.method,
                "distance": m.distance,
                "score": m.score,
                "bank": bank.name,
                "bank_kind": bank.kind,
                "bank_entry_id": m.bank_entry_id,
                "case_id": case_id,
                "case_ref": case.ref if case else None,
                "minor": bool(case.minor) if case else None,
                "media_id": media.id,
                "media_sha256": media.sha256,
                "media_type": media.media_type,
                "width": media.width,
                "height": media.height,
                "held": media.sha256 in held,
                "region": details.get("region") if m.method == "verified" else None,
                "box": details.get("box") if m.method == "face" else None,
                "sightings": sightings.get(media.id, []),
                "derived_from": [{**link, "held": link["media_sha256"] in held} for link in derived.get(media.id, [])],
                "created_at": _iso(m.created_at),
                "decided_at": _iso(m.decided_at),
            }
        )
    return out


def decide(session: Session, who: Principal, match_id: int, action: str, reason: str | None) -> dict[str, Any]:
    """Confirm, reject or escalate a pending match, with a reason, logged in the evidence log."""
    who.require("decide")
    if action not in ACTIONS:
        raise ConfigError(f"action must be one of {', '.join(ACTIONS)}, got '{action}'")
    text = _reason(reason, f"to {action} a match")
    match, _, _ = _load(session, who, match_id)
    if match.status != "pending":
        raise InvalidTransition(
            f"match {match_id} is already {match.status}; a decided match is not decided again "
            "(escalate questions to an admin)"
        )
    now = utcnow()
    index = append_entry(
        session,
        "decision",
        {"match_id": match.id, "action": action, "reason": text, "by": who.name, "role": who.role},
    )
    session.add(
        ReviewDecision(match_id=match.id, user_id=who.id, action=action, reason=text, log_index=index, created_at=now)
    )
    if action != "escalate":
        match.status = ACTIONS[action]
        match.decided_at = now
    session.flush()
    return {"match_id": match.id, "action": action, "status": match.status, "log_index": index, "by": who.name}


def reveal(session: Session, who: Principal, match_id: int, reason: str | None) -> dict[str, Any]:
    """Record a reveal (who, when, why) in the evidence log; the clear preview is then served for a while."""
    who.require("reveal")
    text = _reason(reason, "revealing media")
    match, _, _ = _load(session, who, match_id)
    now = utcnow()
    index = append_entry(session, "reveal", {"match_id": match.id, "reason": text, "by": who.name, "role": who.role})
    session.add(
        MediaView(match_id=match.id, user_id=who.id, kind="reveal", reason=text, log_index=index, created_at=now)
    )
    session.flush()
    until = now + timedelta(minutes=REVEAL_MINUTES)
    return {"match_id": match.id, "log_index": index, "by": who.name, "clear_until": _iso(until)}


def revealed(session: Session, who: Principal, match_id: int) -> bool:
    since = utcnow() - timedelta(minutes=REVEAL_MINUTES)
    found = session.scalar(
        select(MediaView.id)
        .where(
            MediaView.match_id == match_id,
            MediaView.user_id == who.id,
            MediaView.kind == "reveal",
            MediaView.created_at >= since,
        )
        .limit(1)
    )
    return found is not None


def preview(
    session: Session, settings: Settings, who: Principal, match_id: int, clear: bool = False, source: int | None = None
) -> bytes:
    """The preview JPEG of a match's media (or of its n-th linked source photo): blurred unless revealed."""
    match, media, _ = _load(session, who, match_id)
    sha = media.sha256
    if source is not None:
        links = sources_of(session, [media.id]).get(media.id, [])
        if not 0 <= source < len(links):
            raise NotFound(f"match {match_id} has no linked source photo {source}")
        sha = links[source]["media_sha256"]
    if clear and not revealed(session, who, match_id):
        raise InvalidTransition(f"reveal match {match_id} with a reason before viewing it clearly")
    if session.scalar(select(HeldBlob.id).where(HeldBlob.sha256 == sha)) is None:
        raise NoPreview("no preview: hash-only (the original was not kept under an evidence hold)")
    try:
        data = open_original(settings, sha)
        image = render_preview(data, settings.limits, clear)
    except EvidenceError:
        raise
    except Exception as exc:  # a held video or a file Pillow cannot read: say so plainly
        raise NoPreview(
            f"no preview: the held original is not an image Reclaim can show ({type(exc).__name__})"
        ) from None
    if not clear:
        session.add(MediaView(match_id=match.id, user_id=who.id, kind="preview", created_at=utcnow()))
    return image


def seen_today(session: Session, who: Principal, everyone: bool = False) -> list[dict[str, Any]]:
    """How much each reviewer has seen today (UTC): previews, reveals and decisions; one's own unless auditing."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    views = select(MediaView.user_id, MediaView.kind, func.count()).where(MediaView.created_at >= start)
    decisions = select(ReviewDecision.user_id, func.count()).where(ReviewDecision.created_at >= start)
    if not everyone:
        views = views.where(MediaView.user_id == who.id)
        decisions = decisions.where(ReviewDecision.user_id == who.id)
    counts: dict[int, dict[str, int]] = {}
    for uid, kind, n in session.execute(views.group_by(MediaView.user_id, MediaView.kind)):
        counts.setdefault(uid, {"previews": 0, "reveals": 0, "decisions": 0})[f"{kind}s"] = n
    for uid, n in session.execute(decisions.group_by(ReviewDecision.user_id)):
        counts.setdefault(uid, {"previews": 0, "reveals": 0, "decisions": 0})["decisions"] = n
    if not everyone:
        counts.setdefault(who.id, {"previews": 0, "reveals": 0, "decisions": 0})
    names = dict(session.execute(select(AppUser.id, AppUser.name).where(AppUser.id.in_(list(counts)))).all())
    return [{"user": names.get(uid, str(uid)), **c} for uid, c in sorted(counts.items())]


def decisions_of(session: Session, who: Principal, match_id: int) -> list[dict[str, Any]]:
    """A match's decisions and reveals, oldest first: the review history shown beside it."""
    _load(session, who, match_id)
    return _history(session, match_id)


def match_with_history(session: Session, who: Principal, match_id: int) -> dict[str, Any]:
    """One match as `get_match` gives it, plus its review history (one scope check, not two)."""
    return {**get_match(session, who, match_id), "history": _history(session, match_id)}


def _history(session: Session, match_id: int) -> list[dict[str, Any]]:
    decided = session.execute(
        select(
            ReviewDecision.action,
            AppUser.name,
            ReviewDecision.reason,
            ReviewDecision.created_at,
            ReviewDecision.log_index,
        )
        .join(AppUser, AppUser.id == ReviewDecision.user_id)
        .where(ReviewDecision.match_id == match_id)
    ).all()
    shown = session.execute(
        select(AppUser.name, MediaView.reason, MediaView.created_at, MediaView.log_index)
        .join(AppUser, AppUser.id == MediaView.user_id)
        .where(MediaView.match_id == match_id, MediaView.kind == "reveal")
    ).all()
    out = [
        {"kind": action, "by": name, "reason": reason, "at": _iso(at), "log_index": index}
        for action, name, reason, at, index in decided
    ]
    out += [
        {"kind": "reveal", "by": name, "reason": reason, "at": _iso(at), "log_index": index}
        for name, reason, at, index in shown
    ]
    return sorted(out, key=lambda e: e["log_index"] if e["log_index"] is not None else -1)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).isoformat()
