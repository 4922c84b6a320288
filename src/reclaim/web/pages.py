"""Web pages: plain, gentle and fast. Previews are blurred on the server; revealing asks for a reason.

Forms post back here with the session's CSRF token; each handler calls one service function and redirects
(post/redirect/get), so reloading a page never repeats an action.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from reclaim.accounts import Principal, close_session, open_session
from reclaim.api.deps import COOKIE, Id, Name, Who, in_transaction
from reclaim.errors import NotAuthenticated
from reclaim.review import case_views, decisions
from reclaim.takedown import requests
from reclaim.takedown.destinations import DESTINATIONS

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]


def _page(request: Request, who: Principal | None, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    today = None
    if who is not None:
        counts = in_transaction(request, lambda s: decisions.seen_today(s, who))
        today = counts[0] if counts else None
    return templates.TemplateResponse(
        request, name, {"who": who, "today": today, **ctx}, status_code=status, headers=_headers()
    )


def _headers() -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"who": None, "today": None, "message": message}, status_code=status, headers=_headers()
    )


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _page(request, None, "login.html")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(min_length=1, max_length=200)]) -> Response:
    try:
        sid, _csrf = in_transaction(request, lambda s: open_session(s, token.strip()))
    except NotAuthenticated as exc:
        return _page(request, None, "login.html", status=401, message=str(exc))
    response = _back("/")
    response.set_cookie(
        COOKIE,
        sid,
        httponly=True,
        secure=bool(request.app.state.secure_cookies),
        samesite="strict",
        max_age=8 * 3600,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, who: Who) -> Response:
    sid = request.cookies.get(COOKIE, "")
    in_transaction(request, lambda s: close_session(s, sid))
    response = _back("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def queue(request: Request, who: Who) -> HTMLResponse:
    items = in_transaction(request, lambda s: decisions.list_queue(s, who, "pending", limit=100))
    return _page(request, who, "queue.html", items=items)


@router.get("/matches/{match_id}", response_class=HTMLResponse)
def match_page(request: Request, who: Who, match_id: Id) -> HTMLResponse:
    def run(s: Any) -> dict[str, Any]:
        item = decisions.get_match(s, who, match_id)
        return {
            "m": item,
            "history": decisions.decisions_of(s, who, match_id),
            "revealed": decisions.revealed(s, who, match_id),
        }

    return _page(request, who, "match.html", **in_transaction(request, run))


@router.post("/matches/{match_id}/reveal")
def reveal(request: Request, who: Who, match_id: Id, reason: Text) -> Response:
    in_transaction(request, lambda s: decisions.reveal(s, who, match_id, reason))
    return _back(f"/matches/{match_id}")


@router.post("/matches/{match_id}/decision")
def decide(
    request: Request, who: Who, match_id: Id, action: Annotated[str, Form(max_length=16)], reason: Text
) -> Response:
    in_transaction(request, lambda s: decisions.decide(s, who, match_id, action, reason))
    nxt = in_transaction(request, lambda s: decisions.list_queue(s, who, "pending", after_id=match_id, limit=1))
    return _back(f"/matches/{nxt[0]['id']}" if nxt else "/")


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, who: Who) -> HTMLResponse:
    return _page(request, who, "cases.html", cases=in_transaction(request, lambda s: case_views.cases_for(s, who)))


@router.get("/cases/{ref}", response_class=HTMLResponse)
def case_page(request: Request, who: Who, ref: Name) -> HTMLResponse:
    def run(s: Any) -> dict[str, Any]:
        case = case_views.case_detail(s, who, ref)
        return {
            "case": case,
            "timeline": case_views.timeline(s, who, ref),
            "confirmed": decisions.list_queue(s, who, "confirmed", case_id=case["id"], limit=500),
        }

    data = in_transaction(request, run)
    dests = [(k, d.label) for k, d in DESTINATIONS.items() if (d.minors if data["case"]["minor"] else d.adults)]
    return _page(request, who, "case.html", destinations=dests, **data)


@router.post("/cases/{ref}/takedown")
async def create_takedown(request: Request, who: Who, ref: Name) -> Response:
    form = await request.form()
    dest = str(form.get("destination", ""))
    if dest == "email":
        dest = f"email:{form.get('email', '')}"
    ids = [int(v) for v in form.getlist("match") if isinstance(v, str) and v.isdigit() and len(v) < 10]
    note = str(form.get("note", ""))[:4000]
    from fastapi.concurrency import run_in_threadpool

    made = await run_in_threadpool(
        in_transaction, request, lambda s: requests.create_request(s, who, ref, dest, ids, note)
    )
    return _back(f"/requests/{made['id']}")


@router.get("/requests", response_class=HTMLResponse)
def requests_page(request: Request, who: Who) -> HTMLResponse:
    items = in_transaction(request, lambda s: requests.list_requests(s, who))
    return _page(request, who, "requests.html", items=items)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, who: Who, request_id: Id) -> HTMLResponse:
    req = in_transaction(request, lambda s: requests.get_request(s, who, request_id))
    return _page(request, who, "request.html", req=req, next_statuses=requests.NEXT[req["status"]])


@router.post("/requests/{request_id}/status")
def request_status(
    request: Request, who: Who, request_id: Id, status: Annotated[str, Form(max_length=16)], note: Text = ""
) -> Response:
    in_transaction(request, lambda s: requests.set_status(s, who, request_id, status, note))
    return _back(f"/requests/{request_id}")
