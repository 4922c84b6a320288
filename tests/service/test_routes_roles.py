"""Every route, walked with every role: a role without the permission gets 403, one with it never 401/403/5xx,
and no route answers without a token except the public four."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from reclaim.accounts import PERMISSIONS
from reclaim.api import admin, cases, matches, takedown
from reclaim.web import pages
from tests.service.conftest import ROLES, World, auth

PUBLIC = {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login"), ("GET", "/openapi.json")}


def routes(w: World) -> list[tuple[str, str, str, str, dict[str, Any] | None, dict[str, Any] | None]]:
    """(method, template, concrete path, permission, json body, form body)."""
    m = w.matches["adult"]
    return [
        ("GET", "/api/me", "/api/me", "read", None, None),
        ("GET", "/api/matches", "/api/matches", "read", None, None),
        ("GET", "/api/matches/{match_id}", f"/api/matches/{m}", "read", None, None),
        ("GET", "/api/matches/{match_id}/preview", f"/api/matches/{m}/preview", "read", None, None),
        ("POST", "/api/matches/{match_id}/reveal", f"/api/matches/{m}/reveal", "reveal", {"reason": "check"}, None),
        (
            "POST",
            "/api/matches/{match_id}/decision",
            f"/api/matches/{m}/decision",
            "decide",
            {"action": "escalate", "reason": "unsure"},
            None,
        ),
        ("GET", "/api/reviewers/today", "/api/reviewers/today", "audit", None, None),
        ("GET", "/api/cases", "/api/cases", "read", None, None),
        ("GET", "/api/cases/{ref}", "/api/cases/case-a", "read", None, None),
        ("GET", "/api/cases/{ref}/timeline", "/api/cases/case-a/timeline", "read", None, None),
        ("GET", "/api/cases/{ref}/export", "/api/cases/case-a/export", "share", None, None),
        (
            "POST",
            "/api/exchange/import",
            "/api/exchange/import",
            "share",
            {"format": "pytx", "text": "", "bank": "partner"},
            None,
        ),
        (
            "POST",
            "/api/takedown",
            "/api/takedown",
            "takedown",
            {"case": "case-a", "destination": "telegram", "match_ids": [w.matches["adult2"]]},
            None,
        ),
        ("GET", "/api/takedown", "/api/takedown", "read", None, None),
        ("POST", "/api/takedown/watch", "/api/takedown/watch", "takedown", None, None),
        ("GET", "/api/takedown/{request_id}", "/api/takedown/{rid}", "read", None, None),
        ("GET", "/api/takedown/{request_id}/document", "/api/takedown/{rid}/document?format=pdf", "read", None, None),
        (
            "POST",
            "/api/takedown/{request_id}/status",
            "/api/takedown/{rid}/status",
            "takedown",
            {"status": "sent"},
            None,
        ),
        ("GET", "/api/users", "/api/users", "users", None, None),
        ("POST", "/api/users", "/api/users", "users", {"name": "new-{role}", "role": "reviewer"}, None),
        ("POST", "/api/users/{name}/cases", "/api/users/reviewer/cases", "users", {"case": "case-a"}, None),
        ("GET", "/api/webhooks", "/api/webhooks", "webhooks", None, None),
        ("POST", "/api/webhooks", "/api/webhooks", "webhooks", {"url": "https://example.org/hook"}, None),
        ("DELETE", "/api/webhooks/{hook_id}", "/api/webhooks/1", "webhooks", None, None),
        ("GET", "/", "/", "read", None, None),
        ("GET", "/matches/{match_id}", f"/matches/{m}", "read", None, None),
        ("POST", "/matches/{match_id}/reveal", f"/matches/{m}/reveal", "reveal", None, {"reason": "check"}),
        (
            "POST",
            "/matches/{match_id}/decision",
            f"/matches/{m}/decision",
            "decide",
            None,
            {"action": "escalate", "reason": "unsure"},
        ),
        ("GET", "/cases", "/cases", "read", None, None),
        ("GET", "/cases/{ref}", "/cases/case-a", "read", None, None),
        (
            "POST",
            "/cases/{ref}/takedown",
            "/cases/case-a/takedown",
            "takedown",
            None,
            {"destination": "kcsc", "match": str(w.matches["adult2"])},
        ),
        ("GET", "/requests", "/requests", "read", None, None),
        ("GET", "/requests/{request_id}", "/requests/{rid}", "read", None, None),
        ("POST", "/requests/{request_id}/status", "/requests/{rid}/status", "takedown", None, {"status": "refused"}),
        ("POST", "/logout", "/logout", "read", None, None),
    ]


def _prepare(client: TestClient, w: World) -> int:
    """Confirm one match and draft one request as admin, so request routes have something to act on."""
    admin = auth(w.tokens["admin"])
    r = client.post(
        f"/api/matches/{w.matches['adult2']}/decision", json={"action": "confirm", "reason": "same"}, headers=admin
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/takedown",
        json={"case": "case-a", "destination": "telegram", "match_ids": [w.matches["adult2"]]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    rid: int = r.json()["id"]
    return rid


def test_the_table_covers_every_route(client: TestClient, world: World) -> None:
    declared = {(m, tpl) for m, tpl, *_ in routes(world)}
    actual = {("GET", "/healthz")}
    for module in (matches, cases, takedown, admin, pages):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            actual |= {(method, route.path) for method in route.methods}
    assert actual - PUBLIC == declared


@pytest.mark.parametrize("role", ROLES)
def test_every_route_with_every_role(client: TestClient, world: World, role: str) -> None:
    rid = _prepare(client, world)
    for method, _tpl, raw_path, permission, raw_body, form in routes(world):
        path = raw_path.replace("{rid}", str(rid))
        body = raw_body
        if body and "name" in body:
            body = {**body, "name": body["name"].replace("{role}", role)}
        allowed = permission in PERMISSIONS[role]
        r = client.request(method, path, json=body, data=form, headers=auth(world.tokens[role]), follow_redirects=False)
        if allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.text[:300])
            assert r.status_code < 500, (role, method, path, r.text[:300])
        else:
            assert r.status_code == 403, (role, method, path, r.status_code, r.text[:300])


def test_nothing_answers_without_a_token(client: TestClient, world: World) -> None:
    for method, _tpl, raw_path, _perm, body, form in routes(world):
        path = raw_path.replace("{rid}", "1")
        r = client.request(method, path, json=body, data=form, follow_redirects=False)
        if path.startswith("/api"):
            assert r.status_code == 401, (method, path, r.status_code)
        else:
            assert r.status_code == 303 and r.headers["location"] == "/login", (method, path, r.status_code)
    for method, path in PUBLIC - {("POST", "/login")}:
        assert client.request(method, path).status_code == 200


def test_case_scope_hides_other_cases(client: TestClient, world: World) -> None:
    cw = auth(world.tokens["caseworker"])
    ids = {m["id"] for m in client.get("/api/matches", headers=cw).json()}
    assert ids == {world.matches["adult"], world.matches["adult2"]}
    for path in (
        f"/api/matches/{world.matches['minor']}",
        f"/api/matches/{world.matches['known']}",
        "/api/cases/case-m",
        "/api/cases/case-m/timeline",
        f"/matches/{world.matches['minor']}",
    ):
        assert client.get(path, headers=cw).status_code == 404, path
    r = client.post(
        f"/api/matches/{world.matches['minor']}/decision", json={"action": "confirm", "reason": "x"}, headers=cw
    )
    assert r.status_code == 404
    assert [c["ref"] for c in client.get("/api/cases", headers=cw).json()] == ["case-a"]
    # someone else's case and a case that does not exist read the same: refs do not leak
    theirs = client.get("/api/cases/case-m", headers=cw).json()["detail"].replace("case-m", "X")
    missing = client.get("/api/cases/case-zz", headers=cw).json()["detail"].replace("case-zz", "X")
    assert theirs == missing
    # a reviewer also sees the caseless known bank; admins and auditors see everything
    rv = {m["id"] for m in client.get("/api/matches", headers=auth(world.tokens["reviewer"])).json()}
    assert rv == {world.matches["adult"], world.matches["adult2"], world.matches["known"]}
    for role in ("admin", "auditor"):
        every = {m["id"] for m in client.get("/api/matches", headers=auth(world.tokens[role])).json()}
        assert every == set(world.matches.values())
