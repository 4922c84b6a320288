"""Folder ingest end to end on SQLite and PostgreSQL: matches, errors, idempotency, nothing lost."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from reclaim import banks
from reclaim.pipeline import ingest
from reclaim.review.queue import list_matches
from reclaim.settings import Settings
from reclaim.sources.folder import FolderSource
from reclaim.store.db import Store
from reclaim.store.tables import IngestError, Match, Media, Sighting, Signal
from tests.worlds import write_world


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as s:
        return {
            t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Media, Sighting, Signal, Match, IngestError)
        }


def enroll(store: Store, settings: Settings, her: Path) -> None:
    with store.transaction() as s:
        banks.create_bank(s, "her", "protected")
        banks.add_files(s, "her", [her], settings.limits, None)


def test_ingest_matches_records_errors_and_is_idempotent(tmp_path: Path, store: Store, settings: Settings) -> None:
    files = write_world(tmp_path / "world")
    enroll(store, settings, files["her"])
    summary = ingest(store, FolderSource(tmp_path / "world", "room-x"), settings)
    assert summary.files == 7
    assert summary.new_media == 4
    assert summary.duplicates == 0
    assert summary.low_quality == 1
    assert sorted(e["path"] for e in summary.errors) == ["bad/cut.jpg", "bad/empty.jpg", "bad/notes.png"]
    assert all(e["reason"] for e in summary.errors)
    assert summary.matches == 2

    with store.transaction() as s:
        found = list_matches(s)
    assert sorted(m["sightings"][0]["path"] for m in found) == ["a/copy-flipped.jpg", "a/copy-q40.jpg"]
    assert {m["method"] for m in found} == {"pdq"}
    assert all(m["bank"] == "her" and m["status"] == "pending" for m in found)
    assert all(m["sightings"][0]["room"] == "room-x" for m in found)
    before = counts(store)

    again = ingest(store, FolderSource(tmp_path / "world", "room-x"), settings)
    assert (again.new_media, again.duplicates, again.matches) == (0, 4, 0)
    assert counts(store) == before


def test_hash_only_no_media_bytes_are_stored(tmp_path: Path, store: Store, settings: Settings) -> None:
    files = write_world(tmp_path / "world")
    enroll(store, settings, files["her"])
    ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    with store.transaction() as s:
        longest = s.scalar(select(func.max(func.length(Signal.value))).where(Signal.signal_type != "sscd"))
        embeddings = s.scalar(select(func.max(func.length(Signal.value))).where(Signal.signal_type == "sscd"))
    assert longest is not None and longest <= 64
    # An SSCD embedding (512 signed bytes in hex after an 8-digit model tag), never media bytes; no keypoints.
    assert embeddings == 8 + 1024
    stored = (
        b"".join(p.read_bytes() for p in (settings.home).rglob("*") if p.is_file()) if settings.home.exists() else b""
    )
    assert files["her"].read_bytes()[1000:1064] not in stored


def test_bad_items_do_not_disturb_stored_media(tmp_path: Path, store: Store, settings: Settings) -> None:
    """A later run full of broken files records their errors and loses nothing already stored."""
    files = write_world(tmp_path / "world")
    ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    before = counts(store)
    files["reencoded"].write_bytes(b"\xff\xd8\xff garbage now")
    files["flipped"].unlink()
    ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    after = counts(store)
    assert after["media"] == before["media"]
    assert after["sighting"] == before["sighting"]
    assert after["ingest_error"] == before["ingest_error"] + 1


def test_error_row_is_cleared_when_the_file_is_fixed(tmp_path: Path, store: Store, settings: Settings) -> None:
    files = write_world(tmp_path / "world")
    ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    files["empty"].write_bytes(files["unrelated"].read_bytes())
    summary = ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    assert "bad/empty.jpg" not in [e["path"] for e in summary.errors]
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(IngestError)) == 2


def test_negative_bank_suppresses_a_match(tmp_path: Path, store: Store, settings: Settings) -> None:
    files = write_world(tmp_path / "world")
    enroll(store, settings, files["her"])
    with store.transaction() as s:
        banks.create_bank(s, "benign", "negative")
        banks.add_files(s, "benign", [files["reencoded"]], settings.limits, "known benign")
    summary = ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    assert summary.suppressed >= 1
    with store.transaction() as s:
        paths = [m["sightings"][0]["path"] for m in list_matches(s)]
    assert "a/copy-q40.jpg" not in paths


def test_symlink_out_of_the_folder_is_not_read(tmp_path: Path, store: Store, settings: Settings) -> None:
    files = write_world(tmp_path / "world")
    (tmp_path / "world" / "escape.jpg").symlink_to(files["her"])
    summary = ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    assert {"path": "escape.jpg", "reason": "symbolic link to a place outside the folder; not read"} in summary.errors


def test_enrolling_after_ingest_matches_media_seen_earlier(tmp_path: Path, store: Store, settings: Settings) -> None:
    """A victim who enrols late still learns where her photo was already seen."""
    files = write_world(tmp_path / "world")
    ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    with store.transaction() as s:
        assert list_matches(s) == []
        banks.create_bank(s, "her", "protected")
        (result,) = banks.add_files(s, "her", [files["her"]], settings.limits, None)
    assert result.earlier_matches == 2
    with store.transaction() as s:
        found = list_matches(s)
    # The re-encoded copy by PDQ; the flipped one by its stored SSCD embedding (no dihedral PDQ is stored).
    got = sorted((m["sightings"][0]["path"], m["method"]) for m in found)
    assert got == [("a/copy-flipped.jpg", "sscd"), ("a/copy-q40.jpg", "pdq")]
    again = ingest(store, FolderSource(tmp_path / "world", "r"), settings)
    assert again.matches == 0
