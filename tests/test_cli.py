"""The CLI contract: command names, JSON shapes on stdout only, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reclaim import synthetic
from tests.worlds import write_world

RECLAIM = [sys.executable, "-m", "reclaim"]


def run(
    home: Path, *args: str, db: str | None = None, check: bool = True, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECLAIM_HOME": str(home)}
    if columns:
        env["COLUMNS"] = str(columns)
    if db:
        env["RECLAIM_DB"] = db
    proc = subprocess.run([*RECLAIM, *args], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def run_json(home: Path, *args: str, db: str | None = None) -> Any:
    proc = run(home, *args, "--json", db=db)
    return json.loads(proc.stdout)


def test_hash_needs_no_workspace_and_reports_each_file(tmp_path: Path) -> None:
    files = write_world(tmp_path / "w")
    home = tmp_path / "no-such-home"
    records = run_json(home, "hash", str(files["her"]), str(files["empty"]))
    assert not home.exists()
    ok, bad = records
    assert set(ok) == {"path", "media_type", "sha256", "md5", "pdq", "pdq_quality", "vpdq", "error"}
    assert ok["media_type"] == "image" and len(ok["pdq"]) == 64 and ok["pdq_quality"] >= 50 and ok["vpdq"] is None
    assert ok["error"] is None
    assert bad["error"] == "the file is empty (0 bytes)" and bad["sha256"] is None


def test_hash_of_a_video_lists_frames(tmp_path: Path) -> None:
    from reclaim import synthetic

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(synthetic.pattern_video(seed=1, seconds=1.0))
    (record,) = run_json(tmp_path / "h", "hash", str(clip))
    assert record["media_type"] == "video" and record["pdq"] is None
    assert len(record["vpdq"]) == 10
    assert set(record["vpdq"][0]) == {"frame", "quality", "pdq", "timestamp"}


def test_hash_exits_non_zero_when_nothing_could_be_hashed(tmp_path: Path) -> None:
    files = write_world(tmp_path / "w")
    proc = run(tmp_path / "h", "hash", str(files["text"]), check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "none of the files could be hashed" in proc.stderr


def test_full_flow_json_shapes(tmp_path: Path, db_url: str) -> None:
    home = tmp_path / "home"
    files = write_world(tmp_path / "world")
    init = run_json(home, "init", db=db_url)
    assert init["revision"]
    run(home, "bank", "create", "her", "--kind", "protected", "--threshold", "pdq=40", "--note", "demo", db=db_url)
    added = run_json(home, "bank", "add", "her", str(files["her"]), db=db_url)
    assert added[0]["entry_id"] and added[0]["error"] is None
    shown = run_json(home, "bank", "show", "her", db=db_url)
    assert set(shown) == {"name", "kind", "thresholds", "entries"}
    assert shown["thresholds"]["pdq"] == 40
    (entry,) = shown["entries"]
    assert set(entry) == {"id", "note", "signals"} and entry["note"] == "her.jpg"
    assert {"pdq", "md5", "sha256"} <= set(entry["signals"])
    listed = run_json(home, "bank", "list", db=db_url)
    assert [(b["name"], b["entries"]) for b in listed] == [("her", 1)]

    summary = run_json(home, "ingest", "folder", str(tmp_path / "world"), "--room", "r1", db=db_url)
    assert {"files", "new_media", "duplicates", "errors", "matches"} <= set(summary)
    assert summary["matches"] == 2 and len(summary["errors"]) == 3
    assert all(set(e) == {"path", "reason"} for e in summary["errors"])

    found = run_json(home, "matches", "--status", "pending", "--bank", "her", db=db_url)
    assert len(found) == 2
    for m in found:
        assert {"id", "media_sha256", "bank", "bank_entry_id", "method", "distance", "status", "sightings"} <= set(m)
        assert m["bank_entry_id"] == entry["id"]
        assert m["sightings"][0] == {"room": "r1", "path": m["sightings"][0]["path"], "message_id": None}
    assert run_json(home, "matches", "--status", "confirmed", db=db_url) == []

    human = run(home, "matches", db=db_url).stdout
    assert "copy-flipped.jpg" in human and "pdq" in human


def test_bank_add_of_a_screenshot_says_it_enrolled_the_picture_shown(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shot, photo = tmp_path / "shot.png", tmp_path / "photo.jpg"
    shot.write_bytes(synthetic.png_bytes(synthetic.chat_screenshot(synthetic.sample("astronaut"))))
    photo.write_bytes(synthetic.jpeg_bytes(synthetic.sample("rocket")))
    run(home, "bank", "create", "her", "--kind", "protected")
    added = {Path(r["path"]).name: r for r in run_json(home, "bank", "add", "her", str(shot), str(photo))}
    x, y, w, h = added["shot.png"]["shown_picture"]
    (px, py), pw = synthetic.SCREEN_PHOTO_AT, synthetic.SCREEN_PHOTO_WIDTH  # the portrait is square
    # Within the photo (its own flat top rows may be left out too) and most of it.
    assert px - 4 <= x and py - 4 <= y and x + w <= px + pw + 4 and y + h <= py + pw + 4 and w * h >= 0.6 * pw * pw
    assert added["photo.jpg"]["shown_picture"] is None
    run(home, "bank", "create", "again", "--kind", "protected")
    human = run(home, "bank", "add", "again", str(shot), columns=200).stdout
    assert "added the picture this screenshot shows" in human
    # A broken file among screenshots: its own clear error, the others still enrolled.
    broken = tmp_path / "broken.png"
    broken.write_bytes(shot.read_bytes()[:400])
    run(home, "bank", "create", "mixed", "--kind", "protected")
    bad, good = run_json(home, "bank", "add", "mixed", str(broken), str(shot))
    assert bad["entry_id"] is None and "corrupt or truncated" in bad["error"] and good["shown_picture"] is not None
    assert run_json(home, "bank", "show", "mixed")["entries"][0]["id"] == good["entry_id"]
    assert len(run_json(home, "bank", "show", "mixed")["entries"]) == 1
    run(home, "bank", "create", "whole", "--kind", "protected")
    (forced,) = run_json(home, "bank", "add", "whole", "--whole", str(shot))
    assert forced["shown_picture"] is None and forced["signals"]["pdq"] != added["shot.png"]["signals"]["pdq"]


def test_ingest_exits_non_zero_when_nothing_was_processed(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.jpg").write_bytes(b"")
    proc = run(tmp_path / "h", "ingest", "folder", str(bad), "--json", check=False)
    assert proc.returncode != 0
    assert json.loads(proc.stdout)["errors"][0]["path"] == "x.jpg"
    assert "no media could be processed" in proc.stderr


def test_errors_are_actionable_and_traceback_free(tmp_path: Path) -> None:
    home = tmp_path / "h"
    proc = run(home, "bank", "show", "nope", check=False)
    assert proc.returncode == 1
    assert "no bank named 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(home, "bank", "create", "x", "--kind", "sometimes", check=False)
    assert proc.returncode == 1 and "bank kind must be one of" in proc.stderr
    proc = run(home, "bank", "create", "x", "--kind", "known", "--threshold", "md5=3", check=False)
    assert "matches exactly" in proc.stderr


def test_init_remembers_the_database(tmp_path: Path) -> None:
    home = tmp_path / "h"
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    run(home, "init", "--db", url)
    run(home, "bank", "create", "b", "--kind", "known")
    assert (tmp_path / "elsewhere.db").exists()
    assert not (home / "reclaim.db").exists()
    assert run_json(home, "bank", "list")[0]["name"] == "b"


@pytest.mark.parametrize("fmt_args", [["--format", "pytx"]])
def test_bank_export_import_round_trip(tmp_path: Path, fmt_args: list[str]) -> None:
    home = tmp_path / "h"
    files = write_world(tmp_path / "w")
    run(home, "bank", "create", "src", "--kind", "known")
    run(home, "bank", "add", "src", str(files["her"]), str(files["unrelated"]))
    out = tmp_path / "src.txt"
    run(home, "bank", "export", "src", *fmt_args, "--out", str(out))
    lines = out.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["pdq", "pdq"]
    run(home, "bank", "create", "dst", "--kind", "imported")
    report = run_json(home, "bank", "import", "dst", str(out), *fmt_args)
    assert report["imported"] == 2 and report["invalid"] == []
    again = run_json(home, "bank", "import", "dst", str(out), *fmt_args)
    assert again["imported"] == 0 and again["duplicates"] == 2
    src_pdq = sorted(e["signals"]["pdq"] for e in run_json(home, "bank", "show", "src")["entries"])
    dst_pdq = sorted(e["signals"]["pdq"] for e in run_json(home, "bank", "show", "dst")["entries"])
    assert src_pdq == dst_pdq


def test_bank_import_reports_bad_lines_and_imports_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    run(home, "bank", "create", "dst", "--kind", "imported")
    good = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    exchange = tmp_path / "in.txt"
    exchange.write_text(f"pdq {good}\npdq nothex\nmystery abc\n# comment\n\nvideo_md5 {'a' * 32}\n")
    proc = run(home, "bank", "import", "dst", str(exchange), check=False)
    assert proc.returncode == 1
    assert "line 2" in proc.stderr and "line 3" in proc.stderr and "nothing imported" in proc.stderr
    assert run_json(home, "bank", "show", "dst")["entries"] == []
    report = run_json(home, "bank", "import", "dst", str(exchange), "--skip-invalid")
    assert report["imported"] == 2
    assert [b["line"] for b in report["invalid"]] == [2, 3]
