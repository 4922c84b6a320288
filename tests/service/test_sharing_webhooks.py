"""Hash sharing (pytx and StopNCII-style JSON, out and in) and HMAC-signed webhooks."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reclaim import webhooks
from reclaim.evidence.log import read_entries
from reclaim.store.db import Store
from reclaim.store.tables import Bank, BankEntry
from reclaim.synthetic import generated, jpeg_bytes
from reclaim.takedown.sharing import self_hash
from tests.service.conftest import World, auth


def _confirm(client: TestClient, w: World, key: str) -> None:
    r = client.post(
        f"/api/matches/{w.matches[key]}/decision",
        json={"action": "confirm", "reason": "same"},
        headers=auth(w.tokens["admin"]),
    )
    assert r.status_code == 200


def test_export_then_import_round_trip(client: TestClient, world: World, store: Store) -> None:
    _confirm(client, world, "adult")
    cw = auth(world.tokens["caseworker"])
    pytx = client.get("/api/cases/case-a/export?format=pytx", headers=cw).text
    assert pytx.startswith("pdq ") and len(pytx.splitlines()) == 1  # image md5 has no pytx name; PDQ carries it
    doc = client.get("/api/cases/case-a/export?format=stopncii", headers=cw).json()
    assert doc["hashes"] == [{"media_type": "image", "algorithm": "pdq", "value": pytx.split()[1]}]
    assert "case-a" not in json.dumps(doc)  # nothing that names her travels
    with store.transaction() as s:
        assert sum(1 for e in read_entries(s) if e.kind == "export") == 2

    r = client.post(
        "/api/exchange/import", json={"format": "stopncii", "text": json.dumps(doc), "bank": "partner-x"}, headers=cw
    )
    assert r.status_code == 200 and r.json()["imported"] == 1 and r.json()["bank"] == "partner-x"
    with store.transaction() as s:
        assert s.scalar(select(Bank.kind).where(Bank.name == "partner-x")) == "imported"
    again = client.post("/api/exchange/import", json={"format": "pytx", "text": pytx, "bank": "partner-x"}, headers=cw)
    assert again.json()["duplicates"] == 1


def test_bad_exchange_files_import_nothing(client: TestClient, world: World, store: Store) -> None:
    admin = auth(world.tokens["admin"])
    good = "pdq " + "f" * 64
    for body in (
        {"format": "pytx", "text": good + "\npdq nothex\n", "bank": "p"},
        {"format": "stopncii", "text": "{not json", "bank": "p"},
        {"format": "stopncii", "text": json.dumps({"hashes": [{"algorithm": "sha1", "value": "x"}]}), "bank": "p"},
    ):
        r = client.post("/api/exchange/import", json=body, headers=admin)
        assert r.status_code == 422, r.text
    # a protected bank is never an import target
    r = client.post("/api/exchange/import", json={"format": "pytx", "text": good, "bank": "case-case-a"}, headers=admin)
    assert r.status_code == 403
    with store.transaction() as s:
        assert s.scalar(select(func.count(Bank.id)).where(Bank.name == "p")) == 0
        assert s.scalar(select(func.count(BankEntry.id)).join(Bank).where(Bank.name == "p")) == 0


def test_victim_self_hash_file_goes_into_her_case(client: TestClient, world: World, tmp_path, settings) -> None:
    photo = tmp_path / "mine.jpg"
    photo.write_bytes(jpeg_bytes(generated(7)))
    doc = self_hash([photo], settings.limits)
    assert [h["algorithm"] for h in doc["hashes"]] == ["pdq"] and "mine" not in json.dumps(doc)
    r = client.post(
        "/api/exchange/import",
        json={"format": "stopncii", "text": json.dumps(doc), "case": "case-a"},
        headers=auth(world.tokens["caseworker"]),
    )
    assert r.status_code == 200 and r.json() == {"bank": "case-case-a", "imported": 1, "duplicates": 0, "invalid": []}


def test_webhooks_are_signed_and_cover_matches_and_requests(client: TestClient, world: World, store: Store) -> None:
    admin = auth(world.tokens["admin"])
    hook = client.post("/api/webhooks", json={"url": "https://partner.example/hook"}, headers=admin).json()
    secret = hook["secret"]
    assert "secret" not in client.get("/api/webhooks", headers=admin).json()[0]
    _confirm(client, world, "adult")
    client.post(
        "/api/takedown",
        json={"case": "case-a", "destination": "telegram", "match_ids": [world.matches["adult"]]},
        headers=admin,
    )
    with store.transaction() as s:  # a new match after the webhook was added
        from reclaim.store.tables import Match

        s.add(Match(media_id=world.media["known"], bank_entry_id=1, method="pdq", distance=1.0))
    got: list[tuple[str, bytes, dict[str, str]]] = []

    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        got.append((url, body, headers))
        return 200

    assert webhooks.deliver_pending(store, send) == {"sent": 2, "failed": 0}
    events = sorted(h["X-Reclaim-Event"] for _, _, h in got)
    assert events == ["match.created", "request.status"]
    for url, body, h in got:
        assert url == "https://partner.example/hook"
        assert webhooks.verify(secret, h["X-Reclaim-Timestamp"], body, h["X-Reclaim-Signature"])
        assert not webhooks.verify("wrong", h["X-Reclaim-Timestamp"], body, h["X-Reclaim-Signature"])
    assert webhooks.deliver_pending(store, send) == {"sent": 0, "failed": 0}  # delivered once

    def down(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise OSError("connection refused")

    client.post("/api/takedown/1/status", json={"status": "sent"}, headers=admin)
    assert webhooks.deliver_pending(store, down) == {"sent": 0, "failed": 1}
    assert webhooks.deliver_pending(store, send) == {"sent": 1, "failed": 0}  # retried, not lost


def test_webhook_urls_are_checked(client: TestClient, world: World) -> None:
    admin = auth(world.tokens["admin"])
    assert client.post("/api/webhooks", json={"url": "file:///etc/passwd"}, headers=admin).status_code == 422
    assert (
        client.post("/api/webhooks", json={"url": "https://x.example", "events": ["nope"]}, headers=admin).status_code
        == 422
    )
