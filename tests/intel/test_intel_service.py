"""Lineage, unique counts, institutions and the report on a synthetic world ingested from an export (both back-ends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from reclaim.errors import RoomNotFound
from reclaim.intel import actors, institutions, lineage
from reclaim.intel.report import write_report
from reclaim.intel.synthetic import World, write_world
from reclaim.rooms.telegram_ingest import ingest_export
from reclaim.settings import Settings
from reclaim.sources.telegram_export import TelegramExport
from reclaim.store.db import Store
from reclaim.store.room_tables import Message, RoomSnapshot
from reclaim.store.tables import Room

SMALL = {"lineages": 3, "decoys": 5, "members": (12, 30), "photos_per_room": (1, 2)}


@pytest.fixture(autouse=True)
def _no_sscd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLAIM_SSCD", "off")  # lineage reads SHA-256 and PDQ only


def ingest_world(tmp_path: Path, store: Store, settings: Settings, seed: int = 5) -> World:
    world = write_world(tmp_path / "export", seed=seed, **SMALL)  # type: ignore[arg-type]
    summary = ingest_export(store, TelegramExport(world.root), settings, None)
    assert summary.messages == world.messages
    return world


def test_lineage_counts_institutions_report(tmp_path: Path, store: Store, settings: Settings) -> None:
    world = ingest_world(tmp_path, store, settings)
    with store.transaction() as session:
        found = lineage.room_lineages(session)
        everything = lineage.room_lineages(session, min_rooms=1)
    assert sorted(lin["rooms"] for lin in found) == sorted(world.lineages)  # oldest first, no decoy joined
    assert sum(len(lin["rooms"]) for lin in everything) == len(world.rooms)
    for lin in found:
        assert lin["lineage_id"] == f"lineage:{lin['rooms'][0]}"
        assert len(lin["links"]) == len(lin["rooms"]) - 1
        for link in lin["links"]:
            assert {"from", "to", "score", "evidence"} <= set(link) and link["score"] >= 0.5
            assert link["evidence"]["reasons"] and "log_odds_total" in link["evidence"]
    json.dumps(found)  # the contract is JSON

    members = {m for r in world.rooms for m in r.members}
    with store.transaction() as session:
        stats = actors.actor_stats(session)
    assert stats["distinct_actors"] == len(members)  # exact, bots excluded
    assert abs(stats["estimate"]["distinct_actors"] - len(members)) <= 0.05 * len(members)
    by_id = {r["id"]: r for r in stats["per_room"]}
    assert all(by_id[r.platform_id]["distinct_senders"] == len(set(r.members)) for r in world.rooms)
    first = world.lineages[0]
    a, b = world.rooms[[r.platform_id for r in world.rooms].index(first[0])], None
    b = next(r for r in world.rooms if r.platform_id == first[1])
    with store.transaction() as session:
        pair = actors.actor_stats(session, [first[0], first[1]], top=5)
    assert pair["distinct_actors"] == len(set(a.members) | set(b.members))
    assert pair["overlap"]["shared_actors"][0][1] == len(set(a.members) & set(b.members))
    assert "does not list all members" in pair["note"]
    assert pair["top_actors"]["by_rooms"][0]["rooms"] == 2 if set(a.members) & set(b.members) else True

    with store.transaction() as session:
        insts = institutions.list_institutions(session)
    named = {i["institution"]: set(i["room_ids"]) for i in insts}
    for r in world.rooms:
        if world.institution_of[r.platform_id]:
            assert r.platform_id in named[world.institution_of[r.platform_id]]
    assert all(i["evidence"] and i["actors"] > 0 for i in insts)

    with store.transaction() as session:
        summary = write_report(session, tmp_path / "report")
    out = tmp_path / "report"
    for name in summary["files"]:
        assert (out / name).stat().st_size > 0
    for name in ("lineage.gexf", "lineage.graphml", "actors_rooms.gexf", "activity.svg", "overlap.svg"):
        ElementTree.parse(out / name)  # well-formed XML
    graph = json.loads((out / "lineage.json").read_text())
    assert {n["id"] for n in graph["nodes"]} == {r.platform_id for r in world.rooms}
    assert sum(1 for e in graph["edges"] if e["joined"]) == sum(len(lin["links"]) for lin in found)
    page = (out / "index.html").read_text()
    assert all(lin["lineage_id"] in page for lin in found) and "does not list all members" in page


def test_reported_members_against_observed_senders(tmp_path: Path, store: Store, settings: Settings) -> None:
    world = ingest_world(tmp_path, store, settings, seed=9)
    room = world.rooms[0]
    with store.transaction() as session:
        room_id = session.query(Room.id).filter(Room.platform_id == room.platform_id).scalar()
        session.add(
            RoomSnapshot(room_id=room_id, participants_count=10 * len(room.members), about="한빛고 졸업생 모임")
        )
    with store.transaction() as session:
        stats = actors.actor_stats(session, [room.platform_id])
        insts = institutions.list_institutions(session)
    [row] = stats["per_room"]
    assert row["participants_count"] == 10 * len(room.members)
    assert row["observed_share"] == pytest.approx(0.1, abs=1e-3)
    assert row["over_time"][0]["observed_senders"] == len(set(room.members))
    assert any(m["where"] == "description" for i in insts for m in i["evidence"])


def test_unknown_room_is_a_clear_error_and_changes_nothing(tmp_path: Path, store: Store, settings: Settings) -> None:
    ingest_world(tmp_path, store, settings, seed=11)
    with store.transaction() as session:
        before = session.query(Message).count()
    with pytest.raises(RoomNotFound, match="no room has the id"), store.transaction() as session:
        actors.actor_stats(session, ["-100404"])
    with store.transaction() as session:
        assert session.query(Message).count() == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_json_contracts(tmp_path: Path, db_url: str) -> None:
    world = write_world(tmp_path / "export", seed=5, **SMALL)  # type: ignore[arg-type]
    env = {**os.environ, "RECLAIM_HOME": str(tmp_path / "home"), "RECLAIM_SSCD": "off", "COLUMNS": "200"}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "reclaim", *args], capture_output=True, text=True, env=env, timeout=300
        )
        assert (proc.returncode == 0) == ok, proc.stderr
        return proc

    run("ingest", "telegram-export", str(world.root), "--json")
    lineages = json.loads(run("rooms", "lineage", "--json").stdout)
    assert sorted(lin["rooms"] for lin in lineages) == sorted(world.lineages)
    assert all(set(lin) >= {"lineage_id", "rooms", "links"} for lin in lineages)
    assert len(json.loads(run("rooms", "--json").stdout)) == len(world.rooms)  # the listing still works
    assert json.loads(run("actors", "--room", world.lineages[0][0], "--json").stdout)
    stats = json.loads(
        run("actors", "stats", "--room", world.lineages[0][0], "--room", world.lineages[0][1], "--json").stdout
    )
    assert stats["rooms"] == world.lineages[0][:2] and stats["distinct_actors"] > 0
    assert json.loads(run("institutions", "--json").stdout)
    assert "lineage:" in run("rooms", "lineage").stdout
    bad = run("actors", "stats", "--room", "-100404", ok=False)
    assert "no room has the id" in bad.stderr and "Traceback" not in bad.stderr
    report = json.loads(run("report", "rooms", "--out", str(tmp_path / "r"), "--json").stdout)
    assert (tmp_path / "r" / "index.html").is_file() and report["lineages"] == len(world.lineages)
