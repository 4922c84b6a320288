"""Takedown routes: create a request, list and read it (JSON, HTML, PDF), move its status, run the watch."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from reclaim.api.deps import Id, Who, in_transaction
from reclaim.takedown import documents, requests

router = APIRouter(prefix="/api/takedown", tags=["takedown"])


class CreateIn(BaseModel):
    case: str = Field(min_length=1, max_length=255)
    destination: str = Field(min_length=1, max_length=320)
    match_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=10_000)
    note: str = Field(default="", max_length=4000)


class StatusIn(BaseModel):
    status: Literal["drafted", "sent", "acknowledged", "removed", "refused", "re-uploaded"]
    note: str = Field(default="", max_length=4000)


@router.post("")
def create(request: Request, who: Who, body: CreateIn) -> dict[str, Any]:
    """Draft a request for confirmed matches of one case to one destination (routed by the case's age)."""
    return in_transaction(
        request, lambda s: requests.create_request(s, who, body.case, body.destination, body.match_ids, body.note)
    )


@router.get("")
def list_requests(
    request: Request,
    who: Who,
    case: Annotated[str | None, Query(max_length=255)] = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    return in_transaction(request, lambda s: requests.list_requests(s, who, case, overdue))


@router.post("/watch")
def watch(request: Request, who: Who) -> list[dict[str, Any]]:
    """Look for removed items seen again; each raises an alert and moves its request to re-uploaded."""
    who.require("takedown")
    return in_transaction(request, requests.watch_reuploads)


@router.get("/{request_id}")
def get_request(request: Request, who: Who, request_id: Id) -> dict[str, Any]:
    return in_transaction(request, lambda s: requests.get_request(s, who, request_id))


@router.get(
    "/{request_id}/document",
    responses={200: {"content": {"application/json": {}, "text/html": {}, "application/pdf": {}}}},
    response_class=Response,
)
def document(request: Request, who: Who, request_id: Id, format: Literal["json", "html", "pdf"] = "json") -> Response:
    """The request document as JSON, HTML or PDF."""
    doc = in_transaction(request, lambda s: requests.request_document(s, who, request_id))
    if format == "html":
        return HTMLResponse(documents.to_html(doc))
    if format == "pdf":
        name = f"takedown-{request_id}.pdf"
        return Response(
            documents.to_pdf(doc),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    import json

    return Response(json.dumps(doc, indent=2, ensure_ascii=False), media_type="application/json")


@router.post("/{request_id}/status")
def set_status(request: Request, who: Who, request_id: Id, body: StatusIn) -> dict[str, Any]:
    """Record the next status (sent, acknowledged, removed, refused, ...); deadlines follow the destination."""
    return in_transaction(request, lambda s: requests.set_status(s, who, request_id, body.status, body.note))
