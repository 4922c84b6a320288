"""Review through the API: blurred previews, reveals with a reason in the evidence log, decisions, counters."""

from __future__ import annotations

import io
import itertools
import json

from fastapi.testclient import TestClient
from PIL import Image

from reclaim.evidence.log import read_entries
from reclaim.store.db import Store
from tests.service.conftest import World, auth


def _log(store: Store, kind: str) -> list[dict]:
    with store.transaction() as s:
        return [json.loads(e.entry) for e in read_entries(s) if e.kind == kind]


def test_preview_is_blurred_greyscale_until_a_logged_reveal(client: TestClient, world: World, store: Store) -> None:
    rv = auth(world.tokens["reviewer"])
    mid = world.matches["adult"]
    r = client.get(f"/api/matches/{mid}/preview", headers=rv)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert "no-store" in r.headers["cache-control"]
    blurred = Image.open(io.BytesIO(r.content))
    assert blurred.mode == "L" and max(blurred.size) <= 480
    # blurred: neighbouring pixels barely differ
    px = list(blurred.tobytes())
    assert sum(abs(a - b) for a, b in itertools.pairwise(px)) / len(px) < 3

    # the clear image is refused before a reveal, and a reveal needs a reason
    assert client.get(f"/api/matches/{mid}/preview?clear=true", headers=rv).status_code == 409
    assert client.post(f"/api/matches/{mid}/reveal", json={"reason": "  "}, headers=rv).status_code == 422
    assert client.post(f"/api/matches/{mid}/reveal", json={}, headers=rv).status_code == 422
    assert _log(store, "reveal") == []

    r = client.post(f"/api/matches/{mid}/reveal", json={"reason": "check it is her photo"}, headers=rv)
    assert r.status_code == 200
    entries = _log(store, "reveal")
    assert len(entries) == 1
    body = entries[0]["body"] if "body" in entries[0] else entries[0]
    text = json.dumps(body)
    assert "check it is her photo" in text and "reviewer" in text and str(mid) in text

    clear = client.get(f"/api/matches/{mid}/preview?clear=true", headers=rv)
    assert clear.status_code == 200
    assert Image.open(io.BytesIO(clear.content)).mode == "RGB"
    # a reveal is personal: another reviewer still gets only the blurred image
    assert client.get(f"/api/matches/{mid}/preview?clear=true", headers=auth(world.tokens["admin"])).status_code == 409


def test_hash_only_media_says_so(client: TestClient, world: World) -> None:
    r = client.get(f"/api/matches/{world.matches['known']}/preview", headers=auth(world.tokens["admin"]))
    assert r.status_code == 404
    assert "hash-only" in r.json()["detail"]


def test_linked_source_photo_and_region(client: TestClient, world: World) -> None:
    rv = auth(world.tokens["reviewer"])
    m = client.get(f"/api/matches/{world.matches['adult2']}", headers=rv).json()
    assert m["region"] == [10, 20, 200, 150]
    assert m["derived_from"][0]["held"] is True and m["derived_from"][0]["message_id"] == 40
    r = client.get(f"/api/matches/{world.matches['adult2']}/preview?source=0", headers=rv)
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).mode == "L"
    assert client.get(f"/api/matches/{world.matches['adult2']}/preview?source=3", headers=rv).status_code == 404


def test_decisions_need_a_reason_are_logged_and_final(client: TestClient, world: World, store: Store) -> None:
    rv = auth(world.tokens["reviewer"])
    mid = world.matches["adult"]
    assert (
        client.post(f"/api/matches/{mid}/decision", json={"action": "confirm", "reason": ""}, headers=rv).status_code
        == 422
    )
    assert (
        client.post(f"/api/matches/{mid}/decision", json={"action": "delete", "reason": "x"}, headers=rv).status_code
        == 422
    )
    r = client.post(f"/api/matches/{mid}/decision", json={"action": "escalate", "reason": "unsure, ask"}, headers=rv)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert client.get(f"/api/matches/{mid}", headers=rv).json()["escalated"] is True
    r = client.post(f"/api/matches/{mid}/decision", json={"action": "confirm", "reason": "same photo"}, headers=rv)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    again = client.post(f"/api/matches/{mid}/decision", json={"action": "reject", "reason": "oops"}, headers=rv)
    assert again.status_code == 409
    assert client.get(f"/api/matches/{mid}", headers=rv).json()["status"] == "confirmed"
    actions = [json.dumps(e) for e in _log(store, "decision")]
    assert len(actions) == 2 and "escalate" in actions[0] and "same photo" in actions[1]
    history = client.get(f"/api/matches/{mid}", headers=rv).json()["history"]
    assert [h["kind"] for h in history] == ["escalate", "confirm"]
    # the auditor may read but not decide
    r = client.post(
        f"/api/matches/{world.matches['adult2']}/decision",
        json={"action": "confirm", "reason": "x"},
        headers=auth(world.tokens["auditor"]),
    )
    assert r.status_code == 403
    assert client.get(f"/api/matches/{world.matches['adult2']}", headers=rv).json()["status"] == "pending"


def test_seen_today_counts_previews_reveals_and_decisions(client: TestClient, world: World) -> None:
    rv = auth(world.tokens["reviewer"])
    assert client.get("/api/me", headers=rv).json()["seen_today"] == {
        "user": "reviewer",
        "previews": 0,
        "reveals": 0,
        "decisions": 0,
    }
    mid = world.matches["adult"]
    client.get(f"/api/matches/{mid}/preview", headers=rv)
    client.get(f"/api/matches/{mid}/preview", headers=rv)
    client.post(f"/api/matches/{mid}/reveal", json={"reason": "needed"}, headers=rv)
    client.post(f"/api/matches/{mid}/decision", json={"action": "reject", "reason": "not her"}, headers=rv)
    me = client.get("/api/me", headers=rv).json()["seen_today"]
    assert (me["previews"], me["reveals"], me["decisions"]) == (2, 1, 1)
    everyone = client.get("/api/reviewers/today", headers=auth(world.tokens["auditor"])).json()
    assert [u["user"] for u in everyone] == ["reviewer"]


def test_tokens_are_hashed_at_rest(world: World, store: Store) -> None:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("SELECT * FROM app_user")))
    for token in world.tokens.values():
        assert token not in dump


def test_bad_tokens_are_refused(client: TestClient, world: World) -> None:
    assert client.get("/api/me", headers=auth("nope")).status_code == 401
    assert client.get("/api/me", headers=auth(world.tokens["admin"] + "x")).status_code == 401
    assert client.get("/api/me").status_code == 401
