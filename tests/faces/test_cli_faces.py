"""The case and face commands end to end, as a caseworker runs them (JSON shapes, errors without tracebacks)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.test_cli import run, run_json


def test_case_enrol_ingest_withdraw(tmp_path: Path, photos: dict[str, Path]) -> None:
    """SQLite only (a dozen processes, each loading the model); the services are tested on both back-ends."""
    home = tmp_path / "home"
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    run(home, "init", db=db_url)
    created = run_json(
        home, "case", "create", "--ref", "c-1", "--consent-text", "Face search, yes.", "--recorded-by", "Ana",
        "--scope", "face,hashes", db=db_url,
    )  # fmt: skip
    assert set(created) == {"id", "ref", "minor", "consent"} and created["consent"]["scope"] == ["face", "hashes"]
    consent = tmp_path / "consent.txt"
    consent.write_text("Hashes only.", encoding="utf-8")
    run(home, "case", "create", "--ref", "c-2", "--consent-file", str(consent), "--recorded-by", "Ana", db=db_url)

    refused = run(home, "face", "enroll", "c-2", str(photos["obama.jpg"]), db=db_url, check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "no recorded consent to face search" in refused.stderr

    enrolled = run_json(home, "face", "enroll", "c-1", str(photos["obama.jpg"]), db=db_url)
    assert set(enrolled[0]) == {"path", "entry_id", "quality", "box", "duplicate_of", "error"}
    assert enrolled[0]["error"] is None

    room = tmp_path / "room"
    room.mkdir()
    shutil.copy(photos["obama3.jpg"], room / "a.jpg")
    shutil.copy(photos["biden.jpg"], room / "b.jpg")
    assert run_json(home, "ingest", "folder", str(room), db=db_url)["matches"] == 1
    (match,) = run_json(home, "matches", db=db_url)
    assert match["method"] == "face" and match["case"] == created["id"] and len(match["box"]) == 4
    assert 0 < match["distance"] < 0.52

    withdrawn = run_json(home, "case", "withdraw", "c-1", "--by", "Ana", db=db_url)
    assert withdrawn["purged_face_embeddings"] == 1 and withdrawn["kept_matches"] == 1
    shutil.copy(photos["obama2.jpg"], room / "c.jpg")
    assert run_json(home, "ingest", "folder", str(room), db=db_url)["matches"] == 0
    shown = run_json(home, "case", "show", "c-1", db=db_url)
    assert shown["withdrawn"]["by"] == "Ana" and shown["faces"]["enrolled"] == 0
    assert [c["ref"] for c in run_json(home, "case", "list", db=db_url)] == ["c-1", "c-2"]

    again = run(home, "face", "enroll", "c-1", str(photos["obama.jpg"]), db=db_url, check=False)
    assert again.returncode != 0 and "withdrawn" in again.stderr and "Traceback" not in again.stderr
