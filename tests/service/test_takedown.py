"""Takedown requests: documents per destination, routing by age, status history with deadlines, re-upload watch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reclaim.pipeline import ingest
from reclaim.settings import Settings
from reclaim.sources.folder import FolderSource
from reclaim.store.db import Store
from reclaim.store.service_tables import TakedownRequest
from reclaim.store.tables import Sighting
from reclaim.synthetic import generated, jpeg_bytes
from tests.service.conftest import World, auth


def _confirm(client: TestClient, w: World, key: str) -> int:
    mid = w.matches[key]
    r = client.post(
        f"/api/matches/{mid}/decision", json={"action": "confirm", "reason": "same"}, headers=auth(w.tokens["admin"])
    )
    assert r.status_code == 200, r.text
    return mid


def _create(client: TestClient, w: World, case: str, dest: str, ids: list[int], role: str = "caseworker"):
    return client.post(
        "/api/takedown", json={"case": case, "destination": dest, "match_ids": ids}, headers=auth(w.tokens[role])
    )


def _count(store: Store) -> int:
    with store.transaction() as s:
        return s.scalar(select(func.count(TakedownRequest.id))) or 0


def test_document_carries_what_a_destination_needs(client: TestClient, world: World) -> None:
    mid = _confirm(client, world, "adult")
    r = _create(client, world, "case-a", "telegram", [mid])
    assert r.status_code == 200, r.text
    req = r.json()
    assert req["status"] == "drafted" and req["deadline_at"] and req["match_ids"] == [mid]
    cw = auth(world.tokens["caseworker"])
    doc = client.get(f"/api/takedown/{req['id']}/document", headers=cw).json()
    assert doc["format"] == "reclaim-takedown/1" and doc["request_id"] == req["id"]
    assert (
        doc["case"]
        == {
            "ref": "case-a",
            "minor": False,
            "consent": doc["case"]["consent"],
        }
        and doc["case"]["consent"]["status"] == "given"
    )
    assert "adult" in doc["category"] and doc["legal_basis"] and doc["requester"] == "caseworker"
    item = doc["items"][0]
    assert len(item["sha256"]) == 64 and len(item["md5"]) == 32 and len(item["pdq"]) == 64
    s = item["sightings"][0]
    assert s["url"] == "https://t.me/c/1234567890/40"
    assert s["room_platform_id"] == "-1001234567890" and s["message_id"] == 40
    assert s["posted_at"] == "2026-11-01T12:00:00+00:00" and s["captured_at"].endswith("+00:00")

    html = client.get(f"/api/takedown/{req['id']}/document?format=html", headers=cw)
    assert html.status_code == 200 and "https://t.me/c/1234567890/40" in html.text and item["sha256"] in html.text
    pdf = client.get(f"/api/takedown/{req['id']}/document?format=pdf", headers=cw)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000


def test_routing_by_age(client: TestClient, world: World, store: Store) -> None:
    adult = _confirm(client, world, "adult")
    minor = _confirm(client, world, "minor")
    # an adult's images never go to child-protection hotlines; a minor's never to StopNCII
    for case, dest, ids in (
        ("case-a", "ncmec", [adult]),
        ("case-a", "inhope", [adult]),
        ("case-m", "stopncii", [minor]),
    ):
        r = _create(client, world, case, dest, ids, role="admin")
        assert r.status_code == 422, (dest, r.text)
    assert "stopncii" in _create(client, world, "case-a", "ncmec", [adult], role="admin").json()["detail"]
    assert _count(store) == 0
    r = _create(client, world, "case-m", "ncmec", [minor], role="admin")
    assert r.status_code == 200
    doc = client.get(f"/api/takedown/{r.json()['id']}/document", headers=auth(world.tokens["admin"])).json()
    assert doc["case"]["minor"] is True and "minor" in doc["category"]
    # StopNCII is guidance for her, never a submission on her behalf
    r = _create(client, world, "case-a", "stopncii", [adult], role="admin")
    doc = client.get(f"/api/takedown/{r.json()['id']}/document", headers=auth(world.tokens["admin"])).json()
    assert doc["destination"]["submitted_by"] == "victim"
    html = client.get(f"/api/takedown/{r.json()['id']}/document?format=html", headers=auth(world.tokens["admin"]))
    assert "nobody submits on her behalf" in html.text


def test_only_confirmed_matches_of_the_case(client: TestClient, world: World, store: Store) -> None:
    assert _create(client, world, "case-a", "telegram", [world.matches["adult"]]).status_code == 409  # pending
    minor = _confirm(client, world, "minor")
    assert _create(client, world, "case-a", "telegram", [minor], role="admin").status_code == 404  # other case
    assert _create(client, world, "case-m", "telegram", [minor]).status_code == 404  # not her case
    assert _create(client, world, "case-a", "email:not-an-address", [world.matches["adult"]]).status_code == 422
    assert _create(client, world, "case-a", "fax", [world.matches["adult"]]).status_code == 422
    assert _count(store) == 0


def test_status_history_deadlines_and_transitions(client: TestClient, world: World) -> None:
    mid = _confirm(client, world, "adult")
    rid = _create(client, world, "case-a", "email:abuse@example.org", [mid]).json()["id"]
    cw = auth(world.tokens["caseworker"])
    bad = client.post(f"/api/takedown/{rid}/status", json={"status": "removed"}, headers=cw)
    assert bad.status_code == 409 and "drafted" in bad.json()["detail"]
    r = client.post(f"/api/takedown/{rid}/status", json={"status": "sent", "note": "ticket 7"}, headers=cw)
    sent = r.json()
    assert sent["status"] == "sent"
    due = datetime.fromisoformat(sent["deadline_at"])
    assert timedelta(days=6) < due - datetime.now(UTC) <= timedelta(days=7)
    client.post(f"/api/takedown/{rid}/status", json={"status": "acknowledged"}, headers=cw)
    done = client.post(f"/api/takedown/{rid}/status", json={"status": "removed"}, headers=cw).json()
    assert [h["status"] for h in done["history"]] == ["drafted", "sent", "acknowledged", "removed"]
    assert done["history"][1]["note"] == "ticket 7" and done["deadline_at"] is None
    assert client.get("/api/takedown?overdue=true", headers=cw).json() == []
    timeline = client.get("/api/cases/case-a/timeline", headers=cw).json()
    assert any(e["kind"] == "request" and "removed" in e["text"] for e in timeline)


def test_reupload_after_removal_raises_an_alert(client: TestClient, world: World, store: Store) -> None:
    mid = _confirm(client, world, "adult")
    cw = auth(world.tokens["caseworker"])
    rid = _create(client, world, "case-a", "telegram", [mid]).json()["id"]
    for status in ("sent", "removed"):
        client.post(f"/api/takedown/{rid}/status", json={"status": status}, headers=cw)
    assert client.post("/api/takedown/watch", headers=cw).json() == []
    with store.transaction() as s:  # the same media posted again, in a new message
        s.add(Sighting(media_id=world.media["adult"], room_id=world.room_id, locator="99", message_id=99))
    alerts = client.post("/api/takedown/watch", headers=cw).json()
    assert [(a["request_id"], a["media_id"]) for a in alerts] == [(rid, world.media["adult"])]
    req = client.get(f"/api/takedown/{rid}", headers=cw).json()
    assert req["status"] == "re-uploaded" and len(req["alerts"]) == 1 and req["deadline_at"]
    assert client.post("/api/takedown/watch", headers=cw).json() == []  # raised once


def test_an_ingest_that_sees_a_removed_item_again_raises_the_alert_itself(
    client: TestClient, world: World, store: Store, settings: Settings, tmp_path: Path
) -> None:
    mid = _confirm(client, world, "adult")
    cw = auth(world.tokens["caseworker"])
    rid = _create(client, world, "case-a", "telegram", [mid]).json()["id"]
    for status in ("sent", "removed"):
        client.post(f"/api/takedown/{rid}/status", json={"status": status}, headers=cw)
    folder = tmp_path / "reposted"
    folder.mkdir()
    (folder / "again.jpg").write_bytes(jpeg_bytes(generated(100)))  # the "adult" item's exact bytes
    summary = ingest(store, FolderSource(folder, "another-room"), settings)
    assert summary.duplicates == 1 and summary.reupload_alerts == 1
    req = client.get(f"/api/takedown/{rid}", headers=cw).json()
    assert req["status"] == "re-uploaded" and len(req["alerts"]) == 1


def test_withdrawn_consent_stops_new_requests(client: TestClient, world: World, store: Store, settings) -> None:
    from reclaim.cases import withdraw_case

    mid = _confirm(client, world, "adult")
    with store.transaction() as s:
        withdraw_case(s, "case-a", "amira")
    r = _create(client, world, "case-a", "telegram", [mid])
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]
    assert _count(store) == 0
