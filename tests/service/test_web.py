"""The web UI over a browser session: secure cookies, CSRF on every form, blurred previews, gentle pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reclaim.store.db import Store
from reclaim.store.service_tables import ReviewDecision
from tests.service.conftest import World


def _login(client: TestClient, token: str) -> str:
    r = client.post("/login", data={"token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = client.get("/")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_login_rejects_a_bad_token(client: TestClient, world: World) -> None:
    r = client.post("/login", data={"token": "wrong"}, follow_redirects=False)
    assert r.status_code == 401 and "set-cookie" not in r.headers
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_queue_shows_only_blurred_previews(client: TestClient, world: World) -> None:
    _login(client, world.tokens["caseworker"])
    page = client.get("/").text
    assert f"/matches/{world.matches['adult']}" in page and f"/matches/{world.matches['minor']}" not in page
    assert "clear=true" not in page
    assert "today: 0 previews" in page
    match = client.get(f"/matches/{world.matches['adult']}").text
    assert "Blurred and greyscale" in match and "clear=true" not in match and 'id="reveal-reason"' in match
    derived = client.get(f"/matches/{world.matches['adult2']}").text
    assert "Surviving region" in derived and "preview?source=0" in derived
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"] and headers["cache-control"] == "no-store"


def test_forms_need_the_csrf_token(client: TestClient, world: World, store: Store) -> None:
    csrf = _login(client, world.tokens["reviewer"])
    mid = world.matches["adult"]
    r = client.post(f"/matches/{mid}/decision", data={"action": "confirm", "reason": "same"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post(
        f"/matches/{mid}/decision",
        data={"action": "confirm", "reason": "same", "csrf": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    with store.transaction() as s:
        assert s.scalar(select(func.count(ReviewDecision.id))) == 0
    # the JSON API over the cookie needs the header too
    assert client.post(f"/api/matches/{mid}/reveal", json={"reason": "x"}).status_code == 403
    assert (
        client.post(f"/api/matches/{mid}/reveal", json={"reason": "x"}, headers={"X-CSRF-Token": csrf}).status_code
        == 200
    )

    r = client.post(f"/matches/{mid}/reveal", data={"reason": "check", "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert "clear=true" in client.get(f"/matches/{mid}").text
    r = client.post(
        f"/matches/{mid}/decision", data={"action": "confirm", "reason": "same", "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/matches/{world.matches['adult2']}"
    with store.transaction() as s:
        assert s.scalar(select(func.count(ReviewDecision.id))) == 1


def test_takedown_from_the_case_page_and_logout(client: TestClient, world: World) -> None:
    csrf = _login(client, world.tokens["caseworker"])
    client.post(
        f"/matches/{world.matches['adult']}/decision", data={"action": "confirm", "reason": "same", "csrf": csrf}
    )
    case = client.get("/cases/case-a").text
    assert 'value="ncmec"' not in case and 'value="stopncii"' in case  # routed by age
    r = client.post(
        "/cases/case-a/takedown",
        data={"destination": "telegram", "match": str(world.matches["adult"]), "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/requests/")
    req = client.get(r.headers["location"]).text
    assert "drafted" in req and "format=pdf" in req
    assert "to telegram: drafted" in client.get("/cases/case-a").text
    r = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_errors_are_plain_pages(client: TestClient, world: World) -> None:
    csrf = _login(client, world.tokens["auditor"])
    r = client.post(
        f"/matches/{world.matches['adult']}/decision", data={"action": "confirm", "reason": "x", "csrf": csrf}
    )
    assert r.status_code == 403 and "may not confirm" in r.text and "Traceback" not in r.text
