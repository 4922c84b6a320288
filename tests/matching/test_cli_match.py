"""`reclaim match`: JSON shape, nothing stored, errors per file, unknown bank; `matches` shows score and region."""

from __future__ import annotations

from pathlib import Path

from reclaim import synthetic
from tests.test_cli import run, run_json


def test_match_looks_up_without_storing(tmp_path: Path, db_url: str) -> None:
    home = tmp_path / "home"
    original = synthetic.sample("astronaut")
    her = tmp_path / "her.jpg"
    her.write_bytes(synthetic.jpeg_bytes(original, 95))
    crop = tmp_path / "crop.jpg"
    crop.write_bytes(synthetic.jpeg_bytes(synthetic.crop(original, 0.7), 80))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    run(home, "init", "--db", db_url)
    run(home, "bank", "create", "her", "--kind", "protected", db=db_url)
    run(home, "bank", "add", "her", str(her), db=db_url)

    ok, broken = run_json(home, "match", str(crop), str(bad), db=db_url)
    assert set(ok) == {"path", "sha256", "media_type", "low_quality", "matches", "suppressed", "error"}
    (m,) = ok["matches"]
    assert set(m) == {"bank", "bank_entry_id", "note", "method", "distance", "score", "region", "details"}
    assert (m["bank"], m["note"], m["method"]) == ("her", "her.jpg", "verified") and len(m["region"]) == 4
    assert broken["error"] and broken["matches"] == []
    assert run_json(home, "matches", db=db_url) == []  # nothing was ingested
    human = run(home, "match", str(crop), db=db_url).stdout
    assert "verified" in human and "her" in human

    missing = run(home, "match", str(crop), "--bank", "nope", db=db_url, check=False)
    assert missing.returncode != 0 and "no bank named 'nope'" in missing.stderr and "Traceback" not in missing.stderr

    room = tmp_path / "room"
    room.mkdir()
    (room / "crop.jpg").write_bytes(crop.read_bytes())
    run(home, "ingest", "folder", str(room), "--room", "r", db=db_url)
    (found,) = run_json(home, "matches", db=db_url)
    assert found["method"] == "verified" and len(found["region"]) == 4 and found["score"] > 0.35
    table = run(home, "matches", db=db_url).stdout
    assert "region" in table and "score" in table
