"""The FastAPI application: JSON API under /api, the web UI at /, OpenAPI at /openapi.json.

No development routes: the interactive docs (/docs, /redoc) are off; the schema is served for clients and tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError

from reclaim import errors
from reclaim.api import admin, cases, matches, takedown
from reclaim.api.deps import error_response, status_of
from reclaim.settings import Settings
from reclaim.store.db import Store
from reclaim.webhooks import deliver_pending
from reclaim.workspace import open_store

WEBHOOK_SECONDS = 5.0
log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def create_app(
    settings: Settings, store: Store | None = None, secure_cookies: bool = True, deliver_webhooks: bool = False
) -> FastAPI:
    """The service for one workspace; `store` may be given by tests. `deliver_webhooks` sends the webhook outbox
    every few seconds in the background (what `reclaim serve` does)."""
    from reclaim.web import pages

    the_store = store or open_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_deliver_forever(the_store)) if deliver_webhooks else None
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(
        lifespan=lifespan,
        title="Reclaim review service",
        version="1",
        docs_url=None,
        redoc_url=None,
        description="Review, cases and takedown. Every route but /login, /static, /healthz and /openapi.json needs "
        "`Authorization: Bearer TOKEN` or a browser session.",
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.secure_cookies = secure_cookies

    @app.exception_handler(errors.ReclaimError)
    async def reclaim_error(request: Request, exc: errors.ReclaimError) -> Response:
        if request.url.path.startswith("/api") or request.headers.get("authorization"):
            return error_response(exc)
        if isinstance(exc, errors.NotAuthenticated):
            return RedirectResponse("/login", status_code=303)
        return pages.error_page(request, str(exc), status_of(exc))

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # e.g. a NUL character PostgreSQL cannot store: the input's fault, and nothing was written.
        return JSONResponse(
            {"error": "InvalidInput", "detail": "the input contains characters or numbers the database cannot store"},
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        detail: list[Any] = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse({"error": "InvalidInput", "detail": detail}, status_code=422)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(matches.router)
    app.include_router(cases.router)
    app.include_router(takedown.router)
    app.include_router(admin.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _deliver_forever(store: Store) -> None:
    """Send queued webhook events; a failure is logged (without payloads) and retried on the next round."""
    while True:
        await asyncio.sleep(WEBHOOK_SECONDS)
        try:
            await run_in_threadpool(deliver_pending, store)
        except Exception as exc:  # keep serving; the outbox keeps the events
            log.warning("webhook delivery round failed: %s", type(exc).__name__)
