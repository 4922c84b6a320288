"""What every route shares: the store, who is calling (token or browser session + CSRF), and error mapping.

Only `/login`, `/static/…`, `/healthz` and `/openapi.json` answer without a principal. A browser session is a
cookie holding a random id (stored hashed); every state-changing request made with it must echo the session's CSRF
token (form field `csrf` or header `X-CSRF-Token`). Bearer tokens are not sent by browsers on their own, so they
need no CSRF token.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from reclaim import errors
from reclaim.accounts import Principal, authenticate_session, authenticate_token
from reclaim.settings import Settings
from reclaim.store.db import Store

COOKIE = "reclaim_session"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="The token `reclaim user add` printed once.")

STATUS: list[tuple[type[errors.ReclaimError], int]] = [
    (errors.NotAuthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.CaseNotFound, 404),
    (errors.BankNotFound, 404),
    (errors.HoldNotFound, 404),
    (errors.NoPreview, 404),
    (errors.InvalidTransition, 409),
    (errors.UserExists, 409),
    (errors.CaseExists, 409),
    (errors.BankExists, 409),
    (errors.ConsentMissing, 409),
    (errors.DestinationRefused, 422),
    (errors.ConfigError, 422),
    (errors.ExchangeFormatError, 422),
    (errors.UnsupportedMedia, 422),
]


def status_of(exc: errors.ReclaimError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def error_response(exc: errors.ReclaimError) -> JSONResponse:
    return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status_of(exc))


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def in_transaction[T](request: Request, fn: Callable[[Session], T]) -> T:
    """Run one service call in one transaction (routes are sync and run in the thread pool)."""
    with store_of(request).transaction() as session:
        return fn(session)


async def principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    store = store_of(request)
    if creds is not None:
        token = creds.credentials

        def by_token() -> Principal:
            with store.transaction() as s:
                return authenticate_token(s, token)

        return await run_in_threadpool(by_token)
    sid = request.cookies.get(COOKIE)
    if not sid:
        raise errors.NotAuthenticated("log in first: send `Authorization: Bearer TOKEN` or sign in at /login")

    def by_session() -> Principal:
        with store.transaction() as s:
            return authenticate_session(s, sid)

    who = await run_in_threadpool(by_session)
    if request.method not in SAFE:
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
        if not sent or not who.csrf_token or not hmac.compare_digest(sent, who.csrf_token):
            raise errors.Forbidden("the form is out of date (CSRF check failed); reload the page and try again")
    return who


Who = Annotated[Principal, Depends(principal)]


# Ids the database can hold, and names without control characters (PostgreSQL refuses NUL in text).
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Name = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")]
