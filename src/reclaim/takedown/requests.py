"""Takedown requests: one document per destination, a status history with deadlines, and a re-upload watch.

The document is built once, when the request is created, from confirmed matches of one case, and frozen as JSON:
what was asked is what was recorded, even if rooms or matches change later. Only confirmed matches of the case
go in, and only while her consent stands.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reclaim.accounts import Principal, scoped_case
from reclaim.errors import ConfigError, ConsentMissing, InvalidTransition, NotFound
from reclaim.store.room_tables import Message, RoomInfo
from reclaim.store.service_tables import ReuploadAlert, TakedownItem, TakedownRequest, TakedownStatus
from reclaim.store.tables import Bank, BankEntry, Case, Match, Media, Room, Sighting, Signal, utcnow
from reclaim.takedown.destinations import contact_of, destination
from reclaim.webhooks import enqueue

STATUSES = ("drafted", "sent", "acknowledged", "removed", "refused", "re-uploaded")
NEXT: dict[str, tuple[str, ...]] = {
    "drafted": ("sent", "refused"),
    "sent": ("acknowledged", "removed", "refused"),
    "acknowledged": ("removed", "refused"),
    "removed": ("re-uploaded",),
    "refused": ("sent",),
    "re-uploaded": ("sent", "removed"),
}
DOCUMENT_FORMAT = "reclaim-takedown/1"
DRAFT_DAYS = 2  # a drafted request should be sent within this many days


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).isoformat()


def telegram_link(platform_id: str, message_id: int | None, info: RoomInfo | None) -> str | None:
    """A stable t.me locator: t.me/<username>/<id> for public rooms, t.me/c/<bare id>/<id> for private ones."""
    if message_id is None:
        return None
    if info is not None and info.username:
        return f"https://t.me/{info.username}/{message_id}"
    bare = info.bare_id if info is not None and info.bare_id else None
    if bare is None and platform_id.startswith("-100") and platform_id[4:].isdigit():
        bare = int(platform_id[4:])
    return f"https://t.me/c/{bare}/{message_id}" if bare is not None else None


def create_request(
    session: Session, who: Principal, case_key: str, dest_key: str, match_ids: list[int], note: str = ""
) -> dict[str, Any]:
    """Draft a request to one destination for confirmed matches of one case."""
    who.require("takedown")
    dest = destination(dest_key)
    case = scoped_case(session, who, case_key)
    if case.withdrawn_at is not None:
        raise ConsentMissing(
            f"case '{case.ref}' was withdrawn on {_iso(case.withdrawn_at)}; no request can be made for her now"
        )
    routing = dest.route(case.minor)
    ids = sorted(set(match_ids))
    if not ids:
        raise ConfigError("name at least one confirmed match (--match ID)")
    rows = session.execute(
        select(Match, Media, Bank.case_id)
        .join(Media, Media.id == Match.media_id)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Match.id.in_(ids))
    ).all()
    found = {m.id: (m, media, cid) for m, media, cid in rows}
    missing = [i for i in ids if i not in found or found[i][2] != case.id]
    if missing:
        raise NotFound(f"match(es) {', '.join(map(str, missing))} are not matches of case '{case.ref}'")
    unconfirmed = [i for i in ids if found[i][0].status != "confirmed"]
    if unconfirmed:
        raise InvalidTransition(
            f"match(es) {', '.join(map(str, unconfirmed))} are not confirmed; confirm them in review first"
        )
    now = utcnow()
    items = _items(session, [found[i] for i in ids])
    document: dict[str, Any] = {
        "format": DOCUMENT_FORMAT,
        "destination": {
            "key": dest.key,
            "label": dest.label,
            "contact": contact_of(dest),
            "submitted_by": dest.submitted_by,
            "instructions": routing.instructions,
        },
        "case": {
            "ref": case.ref,
            "minor": case.minor,
            "consent": {
                "status": "given",
                "scope": list(case.consent_scope or []),
                "recorded_by": case.consent_recorded_by,
                "recorded_at": _iso(case.consent_recorded_at),
            },
        },
        "category": routing.category,
        "legal_basis": routing.legal_basis,
        "requester": who.name,
        "note": note.strip(),
        "created_at": _iso(now),
        "items": items,
    }
    req = TakedownRequest(
        case_id=case.id,
        destination=dest.key,
        status="drafted",
        deadline_at=now + timedelta(days=DRAFT_DAYS),
        document=document,
        created_by=who.name,
        created_at=now,
        updated_at=now,
    )
    session.add(req)
    session.flush()
    req.document = {"request_id": req.id, **document}  # a new object, so the JSON column sees the change
    for i in ids:
        session.add(TakedownItem(request_id=req.id, match_id=i, media_id=found[i][1].id))
    session.add(
        TakedownStatus(
            request_id=req.id,
            status="drafted",
            note=note.strip(),
            set_by=who.name,
            deadline_at=req.deadline_at,
            created_at=now,
        )
    )
    session.flush()
    enqueue(session, "request.status", {"request_id": req.id, "status": "drafted", "destination": dest.key})
    return request_json(session, req)


def _items(session: Session, rows: list[tuple[Match, Media, int | None]]) -> list[dict[str, Any]]:
    media_ids = [media.id for _, media, _ in rows]
    sigs: dict[int, dict[str, str]] = defaultdict(dict)
    for mid, st, value in session.execute(
        select(Signal.media_id, Signal.signal_type, Signal.value).where(
            Signal.media_id.in_(media_ids), Signal.signal_type.in_(("pdq", "md5", "sha256"))
        )
    ):
        sigs[mid][st] = value
    sightings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    srows = session.execute(
        select(Sighting, Room, RoomInfo, Message.posted_at)
        .join(Room, Room.id == Sighting.room_id)
        .outerjoin(RoomInfo, RoomInfo.room_id == Room.id)
        .outerjoin(Message, (Message.room_id == Sighting.room_id) & (Message.message_id == Sighting.message_id))
        .where(Sighting.media_id.in_(media_ids))
        .order_by(Sighting.id)
    ).all()
    for s, room, info, posted in srows:
        sightings[s.media_id].append(
            {
                "platform": room.platform,
                "room_platform_id": room.platform_id,
                "room_name": room.name,
                "room_username": info.username if info else None,
                "message_id": s.message_id,
                "url": telegram_link(room.platform_id, s.message_id, info) if room.platform == "telegram" else None,
                "path": s.path if room.platform != "telegram" else None,
                "posted_at": _iso(posted),
                "captured_at": _iso(s.seen_at),
            }
        )
    return [
        {
            "match_id": m.id,
            "method": m.method,
            "media_type": media.media_type,
            "sha256": media.sha256,
            "md5": media.md5,
            "pdq": sigs[media.id].get("pdq"),
            "sightings": sightings.get(media.id, []),
        }
        for m, media, _ in rows
    ]


def _get(session: Session, who: Principal, request_id: int) -> TakedownRequest:
    req = session.get(TakedownRequest, request_id)
    if req is None:
        raise NotFound(f"no takedown request {request_id}")
    who.require_case(req.case_id)
    return req


def get_request(session: Session, who: Principal, request_id: int) -> dict[str, Any]:
    return request_json(session, _get(session, who, request_id), history=True)


def request_document(session: Session, who: Principal, request_id: int) -> dict[str, Any]:
    return dict(_get(session, who, request_id).document)


def list_requests(
    session: Session, who: Principal, case_key: str | None = None, overdue: bool = False
) -> list[dict[str, Any]]:
    stmt = select(TakedownRequest).order_by(TakedownRequest.id)
    if case_key is not None:
        case = scoped_case(session, who, case_key)
        stmt = stmt.where(TakedownRequest.case_id == case.id)
    elif not who.all_cases:
        stmt = stmt.where(TakedownRequest.case_id.in_(sorted(who.case_ids)))
    if overdue:
        stmt = stmt.where(TakedownRequest.deadline_at.is_not(None), TakedownRequest.deadline_at < utcnow())
    return [request_json(session, r) for r in session.scalars(stmt)]


def set_status(session: Session, who: Principal, request_id: int, status: str, note: str = "") -> dict[str, Any]:
    """Move a request along its history; the next deadline follows the destination's usual answer time."""
    who.require("takedown")
    req = _get(session, who, request_id)
    if status not in STATUSES:
        raise ConfigError(f"status must be one of {', '.join(STATUSES)}, got '{status}'")
    if status not in NEXT[req.status]:
        allowed = ", ".join(NEXT[req.status]) or "nothing"
        raise InvalidTransition(f"request {request_id} is {req.status}; it can move to {allowed}, not {status}")
    _record(session, req, status, note, who.name)
    return request_json(session, req, history=True)


def _record(session: Session, req: TakedownRequest, status: str, note: str, by: str) -> None:
    now = utcnow()
    days = destination(req.destination).response_days
    deadline = now + timedelta(days=days) if status in ("sent", "acknowledged", "re-uploaded") else None
    req.status = status
    req.deadline_at = deadline
    req.updated_at = now
    session.add(
        TakedownStatus(
            request_id=req.id, status=status, note=note.strip(), set_by=by, deadline_at=deadline, created_at=now
        )
    )
    session.flush()
    enqueue(session, "request.status", {"request_id": req.id, "status": status, "destination": req.destination})


def request_json(session: Session, req: TakedownRequest, history: bool = False) -> dict[str, Any]:
    case = session.get(Case, req.case_id)
    out: dict[str, Any] = {
        "id": req.id,
        "case": case.ref if case else None,
        "destination": req.destination,
        "status": req.status,
        "deadline_at": _iso(req.deadline_at),
        "overdue": req.deadline_at is not None and _aware(req.deadline_at) < datetime.now(UTC),
        "created_by": req.created_by,
        "created_at": _iso(req.created_at),
        "match_ids": list(
            session.scalars(
                select(TakedownItem.match_id).where(TakedownItem.request_id == req.id).order_by(TakedownItem.match_id)
            )
        ),
    }
    if history:
        out["history"] = [
            {
                "status": s.status,
                "note": s.note,
                "by": s.set_by,
                "at": _iso(s.created_at),
                "deadline_at": _iso(s.deadline_at),
            }
            for s in session.scalars(
                select(TakedownStatus).where(TakedownStatus.request_id == req.id).order_by(TakedownStatus.id)
            )
        ]
        out["alerts"] = [
            {"media_id": a.media_id, "sighting_id": a.sighting_id, "at": _iso(a.created_at)}
            for a in session.scalars(
                select(ReuploadAlert).where(ReuploadAlert.request_id == req.id).order_by(ReuploadAlert.id)
            )
        ]
    return out


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def watch_reuploads(session: Session) -> list[dict[str, Any]]:
    """Raise an alert for each removed request whose media (or a new match to the same reference) is seen again
    after the removal: the request moves to `re-uploaded` and a webhook event is queued."""
    alerts: list[dict[str, Any]] = []
    removed = session.scalars(select(TakedownRequest).where(TakedownRequest.status == "removed")).all()
    for req in removed:
        since = session.scalar(
            select(TakedownStatus.created_at)
            .where(TakedownStatus.request_id == req.id, TakedownStatus.status == "removed")
            .order_by(TakedownStatus.id.desc())
            .limit(1)
        )
        if since is None:
            continue
        items = session.execute(
            select(TakedownItem.media_id, Match.bank_entry_id)
            .join(Match, Match.id == TakedownItem.match_id)
            .where(TakedownItem.request_id == req.id)
        ).all()
        media_ids = {mid for mid, _ in items}
        entries = {eid for _, eid in items}
        rematched = select(Match.media_id).where(Match.bank_entry_id.in_(sorted(entries)), Match.created_at > since)
        seen = session.execute(
            select(Sighting.id, Sighting.media_id)
            .where(
                Sighting.seen_at > since,
                or_(Sighting.media_id.in_(sorted(media_ids)), Sighting.media_id.in_(rematched)),
            )
            .order_by(Sighting.id)
        ).all()
        known = set(session.scalars(select(ReuploadAlert.sighting_id).where(ReuploadAlert.request_id == req.id)))
        fresh = [(sid, mid) for sid, mid in seen if sid not in known]
        if not fresh:
            continue
        for sid, mid in fresh:
            session.add(ReuploadAlert(request_id=req.id, media_id=mid, sighting_id=sid))
            alerts.append({"request_id": req.id, "media_id": mid, "sighting_id": sid})
        _record(session, req, "re-uploaded", f"{len(fresh)} new sighting(s) after removal", "re-upload watch")
    return alerts
