"""Review routes: the scoped queue, one match with its history, previews, decisions and reveals."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from reclaim.api.deps import Id, Who, in_transaction, settings_of
from reclaim.review import decisions

router = APIRouter(prefix="/api", tags=["review"])


class DecisionIn(BaseModel):
    action: Literal["confirm", "reject", "escalate"]
    reason: str = Field(min_length=1, max_length=2000)


class RevealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/me")
def me(request: Request, who: Who) -> dict[str, Any]:
    """Who the token belongs to, her permissions, and how much she has seen today."""
    today = in_transaction(request, lambda s: decisions.seen_today(s, who))
    return {
        "name": who.name,
        "role": who.role,
        "case_ids": sorted(who.case_ids),
        "all_cases": who.all_cases,
        "seen_today": today[0] if today else {},
    }


@router.get("/matches")
def list_matches(
    request: Request,
    who: Who,
    status: Annotated[Literal["pending", "confirmed", "rejected"] | None, Query()] = "pending",
    case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[dict[str, Any]]:
    """Matches in your cases (and, for reviewers, of banks of no case), oldest first."""
    return in_transaction(request, lambda s: decisions.list_queue(s, who, status, case_id, limit, after))


@router.get("/matches/{match_id}")
def get_match(request: Request, who: Who, match_id: Id) -> dict[str, Any]:
    return in_transaction(request, lambda s: decisions.match_with_history(s, who, match_id))


@router.get(
    "/matches/{match_id}/preview",
    responses={200: {"content": {"image/jpeg": {}}, "description": "Blurred greyscale JPEG (clear after a reveal)"}},
    response_class=Response,
)
def preview(
    request: Request,
    who: Who,
    match_id: Id,
    clear: bool = False,
    source: Annotated[int | None, Query(ge=0, le=1000)] = None,
) -> Response:
    """The preview: blurred and greyscale; `clear=true` only within minutes of your own logged reveal."""
    settings = settings_of(request)
    data = in_transaction(request, lambda s: decisions.preview(s, settings, who, match_id, clear, source))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store, private"})


@router.post("/matches/{match_id}/decision")
def decide(request: Request, who: Who, match_id: Id, body: DecisionIn) -> dict[str, Any]:
    """Confirm, reject or escalate, with a reason; written to the evidence log."""
    return in_transaction(request, lambda s: decisions.decide(s, who, match_id, body.action, body.reason))


@router.post("/matches/{match_id}/reveal")
def reveal(request: Request, who: Who, match_id: Id, body: RevealIn) -> dict[str, Any]:
    """Ask to see the media clearly: the reason, who and when go into the evidence log."""
    return in_transaction(request, lambda s: decisions.reveal(s, who, match_id, body.reason))


@router.get("/reviewers/today")
def reviewers_today(request: Request, who: Who) -> list[dict[str, Any]]:
    """How much each reviewer has seen today (admins and auditors)."""
    who.require("audit")
    return in_transaction(request, lambda s: decisions.seen_today(s, who, everyone=True))
