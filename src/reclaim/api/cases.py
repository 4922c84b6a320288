"""Case routes: the cases you may see, one case in full, its timeline, and hash-sharing files."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from reclaim.api.deps import Name, Who, in_transaction
from reclaim.review import case_views
from reclaim.takedown import sharing

router = APIRouter(prefix="/api", tags=["cases"])


class ImportIn(BaseModel):
    format: Literal["pytx", "stopncii"]
    text: str = Field(max_length=50_000_000)
    bank: str | None = Field(default=None, min_length=1, max_length=255)
    case: str | None = Field(default=None, min_length=1, max_length=255)
    skip_invalid: bool = False


@router.get("/cases")
def list_cases(request: Request, who: Who) -> list[dict[str, Any]]:
    return in_transaction(request, lambda s: case_views.cases_for(s, who))


@router.get("/cases/{ref}")
def show_case(request: Request, who: Who, ref: Name) -> dict[str, Any]:
    return in_transaction(request, lambda s: case_views.case_detail(s, who, ref))


@router.get("/cases/{ref}/timeline")
def case_timeline(request: Request, who: Who, ref: Name) -> list[dict[str, Any]]:
    return in_transaction(request, lambda s: case_views.timeline(s, who, ref))


@router.get("/cases/{ref}/export", response_class=PlainTextResponse)
def export_hashes(
    request: Request, who: Who, ref: Name, format: Annotated[Literal["pytx", "stopncii"], Query()] = "pytx"
) -> PlainTextResponse:
    """The case's confirmed items as hashes for partner platforms; logged in the evidence log."""
    text = in_transaction(request, lambda s: sharing.export_case(s, who, ref, format))
    kind = "application/json" if format == "stopncii" else "text/plain"
    return PlainTextResponse(text, media_type=kind)


@router.post("/exchange/import")
def import_exchange(request: Request, who: Who, body: ImportIn) -> dict[str, Any]:
    """An exchange file into an imported bank, or a victim's self-hash file into her case's bank."""
    return in_transaction(
        request,
        lambda s: sharing.import_file(s, who, body.text, body.format, body.bank, body.case, body.skip_invalid),
    )
