"""Holds and capture entries through the real pipeline (folder ingest), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reclaim import banks, cases
from reclaim.errors import EvidenceError, HoldNotFound
from reclaim.evidence import holds
from reclaim.evidence.log import read_entries
from reclaim.pipeline import ingest
from reclaim.settings import Settings
from reclaim.sources.folder import FolderSource
from reclaim.store.db import Store
from reclaim.store.evidence_tables import HeldBlob
from reclaim.store.tables import Media
from tests.worlds import write_world


def held_files(settings: Settings) -> list[Path]:
    root = settings.home / "evidence" / "held"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def captures(store: Store) -> list[dict]:
    with store.transaction() as s:
        return [json.loads(e.entry) for e in read_entries(s) if e.kind == "capture"]


def test_without_a_hold_no_bytes_are_kept_and_every_new_sighting_is_logged(
    tmp_path: Path, store: Store, settings: Settings
) -> None:
    files = write_world(tmp_path / "world")
    ingest(store, FolderSource(tmp_path / "world", "room-x"), settings)
    assert held_files(settings) == []
    logged = captures(store)
    assert len(logged) == 4  # four good media, each a new sighting
    body = logged[0]["body"]
    assert set(body) == {
        "media_id", "sha256", "md5", "pdq", "room", "locator", "message_id", "posted_at", "captured_at",
        "original_held", "tool", "operator",
    }  # fmt: skip
    assert body["room"] == {"platform": "folder", "platform_id": "room-x", "name": "room-x"}
    assert body["original_held"] is False and body["posted_at"] is None
    assert body["captured_at"].endswith("Z") and body["operator"] == settings.operator
    with store.transaction() as s:
        shas = set(s.scalars(select(Media.sha256)))
    assert {c["body"]["sha256"] for c in logged} == shas
    # Running again adds no entries; the same media in another room is a new sighting and is logged.
    ingest(store, FolderSource(tmp_path / "world", "room-x"), settings)
    assert len(captures(store)) == 4
    other = tmp_path / "other"
    other.mkdir()
    (other / "same.jpg").write_bytes(files["unrelated"].read_bytes())
    ingest(store, FolderSource(other, "room-y"), settings)
    logged = captures(store)
    assert len(logged) == 5 and logged[-1]["body"]["room"]["platform_id"] == "room-y"


def test_room_hold_named_before_the_room_is_seen_keeps_encrypted_originals(
    tmp_path: Path, store: Store, settings: Settings
) -> None:
    files = write_world(tmp_path / "world")
    with store.transaction() as s:
        hold = holds.add_hold(s, settings, room="room-x", note="preservation request 17")
    assert hold["room_seen"] is False
    ingest(store, FolderSource(tmp_path / "world", "room-x"), settings)
    kept = held_files(settings)
    assert len(kept) == 4
    originals = {p.read_bytes() for p in files.values() if p.suffix in (".jpg", ".png")}
    for path in kept:
        sealed = path.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sealed not in originals and not any(o[:64] in sealed for o in originals if len(o) > 64)
        sha = path.stem
        assert holds.open_original(settings, sha) in originals
    assert all(c["body"]["original_held"] for c in captures(store))
    with store.transaction() as s:
        listed = holds.list_holds(s)
    assert listed[0]["originals_kept"] == 4 and listed[0]["room_seen"] is True
    key = settings.home / "evidence" / "hold-key.json"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # A blob altered on disk is detected, not returned.
    victim = kept[0]
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(EvidenceError, match="does not decrypt"):
        holds.open_original(settings, victim.stem)


def test_removed_hold_stops_keeping_but_keeps_what_it_kept(tmp_path: Path, store: Store, settings: Settings) -> None:
    write_world(tmp_path / "world")
    with store.transaction() as s:
        hold_id = holds.add_hold(s, settings, room="room-x", platform="folder")["id"]
        # Adding the same hold twice gives back the one in force.
        assert holds.add_hold(s, settings, room="room-x", platform="folder")["id"] == hold_id
        holds.add_hold(s, settings, room="room-x", platform="telegram")  # another platform: does not apply
    ingest(store, FolderSource(tmp_path / "world" / "a", "room-x"), settings)
    assert len(held_files(settings)) == 2
    with store.transaction() as s:
        removed = holds.remove_hold(s, settings, hold_id)
    assert removed["removed_at"] is not None and removed["originals_kept"] == 2
    ingest(store, FolderSource(tmp_path / "world" / "b", "room-x"), settings)
    assert len(held_files(settings)) == 2
    with store.transaction() as s:
        kinds = [(json.loads(e.entry)["body"]["action"]) for e in read_entries(s) if e.kind == "hold"]
        assert len(holds.list_holds(s)) == 1 and len(holds.list_holds(s, include_removed=True)) == 2
        with pytest.raises(HoldNotFound):
            holds.remove_hold(s, settings, 999)
    assert kinds == ["add", "add", "remove"]


def test_case_hold_keeps_media_that_matched_the_case_bank(tmp_path: Path, store: Store, settings: Settings) -> None:
    files = write_world(tmp_path / "world")
    with store.transaction() as s:
        case = cases.create_case(s, "case-7", "I agree to hash matching.", "caseworker", "hashes")
        banks.add_files(s, cases.bank_name("case-7"), [files["her"]], settings.limits, None)
        holds.add_hold(s, settings, case="case-7")
        case_id = case.id
    ingest(store, FolderSource(tmp_path / "world", "room-x"), settings)
    kept = {p.stem for p in held_files(settings)}
    with store.transaction() as s:
        blob_media = set(s.scalars(select(HeldBlob.media_id)))
        shas = dict(s.execute(select(Media.id, Media.sha256)).all())
    assert len(kept) == 2  # the two derivatives of her photo matched; the unrelated media were not kept
    assert kept == {shas[m] for m in blob_media}
    hold_entries = [json.loads(e.entry) for e in _entries(store) if e.kind == "hold"]
    assert hold_entries[0]["body"]["case_id"] == case_id


def test_bad_hold_requests_are_refused_and_change_nothing(store: Store, settings: Settings) -> None:
    with store.transaction() as s:
        for kwargs in ({}, {"room": "r", "case": "c"}, {"case": "no-such-case"}, {"room": "  "}):
            with pytest.raises(EvidenceError):
                holds.add_hold(s, settings, **kwargs)
    with store.transaction() as s:
        assert holds.list_holds(s, include_removed=True) == []
        assert read_entries(s) == []


def test_passphrase_wrapped_hold_key(tmp_path: Path, store: Store, settings: Settings) -> None:
    write_world(tmp_path / "world")
    locked = replace(settings, hold_passphrase="correct horse")
    with store.transaction() as s:
        holds.add_hold(s, locked, room="room-x")
    key = json.loads((settings.home / "evidence" / "hold-key.json").read_text())
    assert key["kdf"] == "scrypt" and "key" not in key
    for wrong in (settings, replace(settings, hold_passphrase="wrong")):
        with pytest.raises(EvidenceError, match="passphrase"):
            ingest(store, FolderSource(tmp_path / "world" / "a", "room-x"), wrong)
    with store.transaction() as s:  # the failed ingest left nothing half-done
        assert s.scalar(select(func.count(HeldBlob.id))) == 0
    ingest(store, FolderSource(tmp_path / "world" / "a", "room-x"), locked)
    kept = held_files(settings)
    assert len(kept) == 2
    assert holds.open_original(locked, kept[0].stem)


def _entries(store: Store):  # type: ignore[no-untyped-def]
    with store.transaction() as s:
        return read_entries(s)
