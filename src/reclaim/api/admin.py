"""Admin routes: users, case assignments and webhooks."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from reclaim import accounts, webhooks
from reclaim.api.deps import Id, Name, Who, in_transaction

router = APIRouter(prefix="/api", tags=["admin"])

Role = Literal["admin", "caseworker", "reviewer", "investigator", "auditor"]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    role: Role


class AssignIn(BaseModel):
    case: str = Field(min_length=1, max_length=255)


class WebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048)
    events: list[Literal["match.created", "request.status"]] | None = None


@router.get("/users")
def list_users(request: Request, who: Who) -> list[dict[str, Any]]:
    who.require("users")
    return in_transaction(request, accounts.list_users)


@router.post("/users")
def add_user(request: Request, who: Who, body: UserIn) -> dict[str, Any]:
    """A new user; the token is in this answer only."""
    who.require("users")

    def run(s: Any) -> dict[str, Any]:
        user, token = accounts.create_user(s, body.name, body.role)
        return {"name": user.name, "role": user.role, "token": token}

    return in_transaction(request, run)


@router.post("/users/{name}/cases")
def assign(request: Request, who: Who, name: Name, body: AssignIn) -> dict[str, Any]:
    who.require("users")
    return in_transaction(request, lambda s: accounts.assign_case(s, name, body.case))


@router.get("/webhooks")
def list_hooks(request: Request, who: Who) -> list[dict[str, Any]]:
    who.require("webhooks")
    return in_transaction(request, webhooks.list_webhooks)


@router.post("/webhooks")
def add_hook(request: Request, who: Who, body: WebhookIn) -> dict[str, Any]:
    """Subscribe a URL; the signing secret is in this answer only."""
    who.require("webhooks")
    events: list[str] | None = list(body.events) if body.events else None
    return in_transaction(request, lambda s: webhooks.add_webhook(s, body.url, events))


@router.delete("/webhooks/{hook_id}")
def remove_hook(request: Request, who: Who, hook_id: Id) -> dict[str, Any]:
    who.require("webhooks")
    return in_transaction(request, lambda s: webhooks.remove_webhook(s, hook_id))
